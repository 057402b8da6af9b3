import { AttributeValue, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, QueryCommandOutput, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { JoinConfigError } from "../../errors";
import { isClosedTaskToken, isConditionalCheckFailed } from "../../runtime/aws/errors";
import { JOIN_ABORTED, JoinAbortEvent, JoinAbortResult, JoinEvent, JoinReleaseEvent, JoinResult, JoinWaitEvent, parseJoinEvent } from "./contract";

/** Closes a waiting Task. Implementations must treat an already closed task as success. */
export interface JoinSignal {
  success(token: string): Promise<void>;
  failure(token: string, error: string, cause: string): Promise<void>;
}

export interface JoinOptions {
  dynamodb: Pick<DynamoDBClient, "send">;
  table: string;
  signal: JoinSignal;
  /** Epoch milliseconds. @default Date.now */
  now?: () => number;
  /** Dependants or waiters handled at once, so a wide fan-out stays under DynamoDB and Step Functions rates. @default 16 */
  concurrency?: number;
}

export interface Join {
  wait(event: JoinWaitEvent): Promise<JoinResult>;
  release(event: JoinReleaseEvent): Promise<JoinResult>;
  abort(event: JoinAbortEvent): Promise<JoinAbortResult>;
}

// A Standard execution may last a year; an item expiring before its waiter is released strands it.
const TTL_SECONDS = 366 * 24 * 3600;
const SUCCESS_OUTPUT = JSON.stringify({ done: true });
const ABORT_KEY = "abort";
// Unit keys are opaque strings to this function: the prefix keeps them apart from the "abort" key.
const UNIT_PREFIX = "u#";

/**
 * The join Lambda of exact mode: a unit with dependencies parks its task token here (`join-wait`),
 * a finished unit releases its dependants (`join-release`), and a failed processor aborts the
 * instance (`join-abort`), so no waiter is left behind. Ships in the Lambda bundle: node builtins
 * and the runtime's `@aws-sdk/*` only.
 *
 * Why it is race-free: each unit has one item, and every call changes it with a single atomic
 * UpdateItem that returns the whole new item. A wait writes the token, a release adds to `done`; so
 * whichever of them comes last sees both the token and a complete `done` set, and signals. Abort
 * writes its marker before it queries the waiters, and a wait reads the marker after it wrote its
 * token (both strongly consistent): a wait racing an abort is either found by the query or sees the
 * marker. A wait or release that would start a unit reads the marker first, so nothing starts once
 * the instance is aborted. Items live in one table: `pk` = workflowInstanceId, `sk` = `u#<unit>` or `abort`.
 * Signals may repeat on retries; Step Functions refuses the second one and we ignore that.
 */
export function createJoin(options: JoinOptions): Join {
  const { dynamodb, table, signal } = options;
  const now = options.now ?? Date.now;
  const limit = options.concurrency ?? 16;
  const expiresAt = (): AttributeValue => ({ N: String(Math.floor(now() / 1000) + TTL_SECONDS) });
  const unitKey = (instance: string, unit: string) => ({ pk: { S: instance }, sk: { S: UNIT_PREFIX + unit } });

  /** What failed, once the instance has been aborted (strongly consistent: an abort's marker is written before it looks for waiters). */
  const abortedBy = async (instance: string): Promise<string | undefined> => {
    const marker = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: instance }, sk: { S: ABORT_KEY } }, ConsistentRead: true }));
    return marker.Item ? marker.Item.failed?.S ?? "a processor" : undefined;
  };

  return {
    async wait(event) {
      const out = await dynamodb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: unitKey(event.workflowInstanceId, event.unit),
          UpdateExpression: "SET #token = :token, #after = :after, expiresAt = :exp",
          ExpressionAttributeNames: { "#token": "token", "#after": "after" },
          ExpressionAttributeValues: { ":token": { S: event.token }, ":after": { SS: unique(event.after) }, ":exp": expiresAt() },
          ReturnValues: "ALL_NEW",
        }),
      );
      // Read after the token is stored: an abort racing this wait either finds the token or is seen here.
      const failed = await abortedBy(event.workflowInstanceId);
      if (failed !== undefined) await signal.failure(event.token, JOIN_ABORTED, abortCause(failed, event.unit));
      else if (isComplete(out.Attributes)) await signal.success(event.token);
      return { done: true };
    },

    async release(event) {
      const done = unique(event.done);
      // A unit completed after the instance was aborted must not start: read the marker once, when first needed.
      let aborted: Promise<string | undefined> | undefined;
      await forEachLimited(unique(event.dependants), limit, async (unit) => {
        const out = await dynamodb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: unitKey(event.workflowInstanceId, unit),
            UpdateExpression: "ADD #done :done SET expiresAt = :exp",
            ExpressionAttributeNames: { "#done": "done" },
            ExpressionAttributeValues: { ":done": { SS: done }, ":exp": expiresAt() },
            ReturnValues: "ALL_NEW",
          }),
        );
        const token = out.Attributes?.token?.S;
        if (!token || !isComplete(out.Attributes)) return;
        const failed = await (aborted ??= abortedBy(event.workflowInstanceId));
        if (failed !== undefined) await signal.failure(token, JOIN_ABORTED, abortCause(failed, unit));
        else await signal.success(token);
      });
      return { done: true };
    },

    async abort(event) {
      const markerKey = { pk: { S: event.workflowInstanceId }, sk: { S: ABORT_KEY } };
      const mine = { failed: event.failed, error: event.error ?? JOIN_ABORTED, cause: event.cause ?? `${event.failed} failed` };
      let first = mine;
      try {
        // The first failure is the one to report: later aborts (the Map of every part) only repeat it.
        await dynamodb.send(
          new PutItemCommand({
            TableName: table,
            Item: { ...markerKey, failed: { S: mine.failed }, error: { S: mine.error }, cause: { S: mine.cause }, expiresAt: expiresAt() },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        const stored = (await dynamodb.send(new GetItemCommand({ TableName: table, Key: markerKey, ConsistentRead: true }))).Item;
        first = { failed: stored?.failed?.S ?? mine.failed, error: stored?.error?.S ?? mine.error, cause: stored?.cause?.S ?? mine.cause };
      }
      let start: QueryCommandOutput["LastEvaluatedKey"];
      do {
        const page: QueryCommandOutput = await dynamodb.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: { ":pk": { S: event.workflowInstanceId }, ":prefix": { S: UNIT_PREFIX } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        const waiting = (page.Items ?? []).filter((item) => item.token?.S && !isComplete(item));
        await forEachLimited(waiting, limit, (item) => signal.failure(item.token.S!, JOIN_ABORTED, abortCause(first.failed, item.sk.S!.slice(UNIT_PREFIX.length))));
        start = page.LastEvaluatedKey;
      } while (start);
      return { done: true, ...first };
    },
  };
}

/** A JoinSignal over SendTaskSuccess / SendTaskFailure that ignores tasks already closed, so retries are harmless. */
export function sfnSignal(sfn: Pick<SFNClient, "send">): JoinSignal {
  const ignoreClosed = (err: unknown) => {
    if (!isClosedTaskToken(err)) throw err;
  };
  return {
    success: (token) => sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: SUCCESS_OUTPUT })).then(() => undefined, ignoreClosed),
    failure: (token, error, cause) => sfn.send(new SendTaskFailureCommand({ taskToken: token, error, cause })).then(() => undefined, ignoreClosed),
  };
}

export interface JoinHandlerOptions {
  /** @default a DynamoDBClient for the function's region (AWS_ENDPOINT_URL is honoured by the SDK) */
  dynamodb?: Pick<DynamoDBClient, "send">;
  /** @default sfnSignal over an SFNClient for the function's region */
  signal?: JoinSignal;
  /** JOIN_TABLE. @default process.env */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/** The Lambda entry: validates the payload, then waits, releases or aborts. Errors keep their `name`, which the state machine sees. */
export function createJoinHandler(options: JoinHandlerOptions = {}): (event: unknown) => Promise<JoinResult> {
  let join: Join | undefined;
  return async (raw) => {
    const event = parseJoinEvent(raw);
    join ??= createJoin({
      dynamodb: options.dynamodb ?? new DynamoDBClient({}),
      table: required(options.env ?? process.env, "JOIN_TABLE"),
      signal: options.signal ?? sfnSignal(new SFNClient({})),
      now: options.now,
    });
    if (event.action === "join-wait") return join.wait(event);
    if (event.action === "join-release") return join.release(event);
    return join.abort(event);
  };
}

export const handler = createJoinHandler();

export { JOIN_ABORTED, parseJoinEvent };
export type { JoinEvent, JoinWaitEvent, JoinReleaseEvent, JoinAbortEvent, JoinResult, JoinAbortResult };

function isComplete(item: Record<string, AttributeValue> | undefined): boolean {
  const after = item?.after?.SS ?? item?.after?.L?.map((v) => v.S ?? "") ?? [];
  const done = new Set(item?.done?.SS ?? []);
  return after.length > 0 && after.every((id) => done.has(id));
}

function abortCause(failed: string, unit: string): string {
  return `${failed} failed, so ${JSON.stringify(unit)} will not run`;
}

// A string set refuses duplicates in its input.
function unique(values: string[]): string[] {
  return [...new Set(values)];
}

// Every item is attempted even when one fails, so a retry has less left to do; the first error is rethrown with its name.
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item).catch((err) => errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length) throw errors[0];
}

function required(env: NodeJS.ProcessEnv, key: string): string {
  const value = env[key];
  if (!value) throw new JoinConfigError(`the join function needs the ${key} environment variable`);
  return value;
}
