import { gunzipSync, gzipSync } from "node:zlib";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { ConflictError, FinalizeConfigError, FinalizeInputError, NotFoundError } from "../../errors";
import { isConditionalCheckFailed, isNotFound } from "../../runtime/aws/errors";
import { systemClock } from "../../clock";
import { tokenSecretName } from "../tokens/contract";
import { DEFAULT_EFS_MOUNT_PATH, TRANSFER_ACTIONS } from "../transfer/contract";
import { deleteEnvFile, deleteTokenSecret } from "../tokens/aws";
import { FINALIZE_ACTION, FinalizeEvent, FinalizeResult, STOP_EVENT_DETAIL_TYPE, STOP_EVENT_SOURCE, STOP_EVENT_STATUSES, StopEvent, StopEventStatus, StopResult } from "./contract";

/*
 * The finalize function's second entry: the node's EventBridge stop rule (lib/node/stop-rule.ts)
 * delivers "Step Functions Execution Status Change" events for ABORTED, TIMED_OUT and FAILED
 * executions of this node's machines. Step Functions skips Catch on StopExecution and timeouts, so
 * the machine's own Finalize never ran for those; this runs it, revokes the execution's tokens and
 * moves the record to its terminal status. Imports @aws-sdk/* and repository files only (it ships
 * in the finalize bundle), which is why it edits the record item itself rather than through the
 * zod-validated DynamoRecordStore: same item layout (gzipped JSON + version), same optimistic write.
 */

export interface StopHandlerOptions {
  /** The machine's Finalize (createFinalizeHandler): archive + cost report + token revocation. */
  finalize: (event: FinalizeEvent) => Promise<FinalizeResult>;
  s3?: Pick<S3Client, "send">;
  sfn?: Pick<SFNClient, "send">;
  dynamodb?: Pick<DynamoDBClient, "send">;
  secrets?: Pick<SecretsManagerClient, "send">;
  lambda?: Pick<LambdaClient, "send">;
  /** COMPUTE_NODE_ID, EXECUTION_TABLE, LOG_ARCHIVE_BUCKET, ENV_FILE_BUCKET (optional), DATA_TRANSFER_FUNCTION (optional: the EFS cleanup). @default process.env */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Optimistic record writes tried at most, when other writers (tracking, cancel) race this one. @default 10 */
  maxRecordAttempts?: number;
}

/** Whether a Lambda event is a Step Functions status change (the stop rule's), not a Finalize payload. */
export function isStopEvent(raw: unknown): boolean {
  const e = raw as Record<string, unknown> | null;
  return typeof e === "object" && e !== null && e.source === STOP_EVENT_SOURCE && e["detail-type"] === STOP_EVENT_DETAIL_TYPE;
}

export function parseStopEvent(raw: unknown): StopEvent {
  if (!isStopEvent(raw)) throw new FinalizeInputError(`stop event: expected source "${STOP_EVENT_SOURCE}" and detail-type "${STOP_EVENT_DETAIL_TYPE}"`);
  const detail = ((raw as Record<string, unknown>).detail ?? {}) as Record<string, unknown>;
  if (typeof detail.executionArn !== "string" || !/^arn:[\w-]+:states:[^:]*:\d*:execution:[^:]+:[^:]+$/.test(detail.executionArn))
    throw new FinalizeInputError(`stop event: detail.executionArn must be a Step Functions execution ARN, got ${JSON.stringify(detail.executionArn)}`);
  if (!STOP_EVENT_STATUSES.includes(detail.status as StopEventStatus)) throw new FinalizeInputError(`stop event: detail.status must be one of ${STOP_EVENT_STATUSES.join(", ")}, got ${JSON.stringify(detail.status)}`);
  return {
    source: STOP_EVENT_SOURCE,
    "detail-type": STOP_EVENT_DETAIL_TYPE,
    detail: {
      executionArn: detail.executionArn,
      status: detail.status as StopEventStatus,
      ...(typeof detail.stateMachineArn === "string" ? { stateMachineArn: detail.stateMachineArn } : {}),
      ...(typeof detail.input === "string" ? { input: detail.input } : {}),
      ...(typeof detail.stopDate === "number" ? { stopDate: detail.stopDate } : {}),
    },
  };
}

interface StoredRecord {
  record: RecordItem;
  version: number;
}

/** The part of an execution record (lib/model/execution-record.ts) this handler reads and changes; the rest is kept as is. */
export interface RecordItem {
  executionId: string;
  computeNodeId: string;
  executionArn?: string;
  status: string;
  finishedAt?: string;
  error?: { error: string; cause?: string };
  processors: Record<string, { status: string; finishedAt?: string; cause?: string }>;
  artifacts?: Record<string, string>;
  [key: string]: unknown;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "CANCELED"]);

/**
 * Finalizes an execution that ended without running its Finalize state. Idempotent: the cost report
 * is written last, so its presence means archive and report are done and a second delivery (or a
 * FAILED event after the machine's own Finalize) archives nothing again; token revocation is
 * repeated harmlessly; the record write changes nothing once the record is terminal and carries the
 * artifacts. Events for other nodes, child machines or executions without a record are ignored, not
 * failed, so EventBridge does not retry them.
 */
export function createStopHandler(options: StopHandlerOptions): (event: unknown) => Promise<StopResult> {
  const env = options.env ?? process.env;
  const now = options.now ?? systemClock;
  return async (raw) => {
    const { detail } = parseStopEvent(raw);
    const nodeId = required(env, "COMPUTE_NODE_ID");
    const table = required(env, "EXECUTION_TABLE");
    const bucket = required(env, "LOG_ARCHIVE_BUCKET");
    const s3 = options.s3 ?? new S3Client({});
    const dynamodb = options.dynamodb ?? new DynamoDBClient({});

    const ids = idsOf(detail.input) ?? idsOf(await describeInput(options.sfn ?? new SFNClient({}), detail.executionArn));
    if (!ids) return { outcome: "ignored", reason: "the execution's input names no workflowInstanceId and computeNodeId" };
    const { workflowInstanceId } = ids;
    if (ids.computeNodeId !== nodeId) return { outcome: "ignored", workflowInstanceId, reason: `the execution belongs to node "${ids.computeNodeId}", not "${nodeId}"` };
    // The top-level execution is named by its workflow instance id; a child machine's carries the parent's input but another name.
    if (detail.executionArn.split(":").pop() !== workflowInstanceId) return { outcome: "ignored", workflowInstanceId, reason: "a child execution: its parent's status change finalizes the run" };
    if (/[/\\]|\.\./.test(workflowInstanceId) || /[/\\]|\.\./.test(nodeId)) throw new FinalizeInputError(`stop event: ids must not contain "/" or ".."`);

    const stored = await readRecord(dynamodb, table, workflowInstanceId);
    if (!stored) return { outcome: "ignored", workflowInstanceId, reason: `no execution record "${workflowInstanceId}" in ${table}` };
    if (stored.record.executionArn && stored.record.executionArn !== detail.executionArn)
      return { outcome: "ignored", workflowInstanceId, reason: "the record names another execution ARN (an earlier run of the same id)" };

    const prefix = `executions/${nodeId}/${workflowInstanceId}`;
    const costReport = `s3://${bucket}/${prefix}/cost-report.json`;
    const logArchive = `s3://${bucket}/${prefix}/`;
    const done = await objectExists(s3, bucket, `${prefix}/cost-report.json`);
    let tokenSecret: StopResult["tokenSecret"];
    let envFile: StopResult["envFile"];
    let efsCleanup: StopResult["efsCleanup"];
    if (!done) {
      // The machine's Cleanup state, which a stop skipped too: the data-transfer function mounts EFS, finalize does not.
      if (env.DATA_TRANSFER_FUNCTION) efsCleanup = await cleanupEfs(options.lambda ?? new LambdaClient({}), env.DATA_TRANSFER_FUNCTION, nodeId, workflowInstanceId);
      const result = await options.finalize({
        action: FINALIZE_ACTION,
        computeNodeId: nodeId,
        workflowInstanceId,
        // The cost report knows SUCCEEDED and FAILED; the record keeps the exact terminal status.
        status: "FAILED",
        error: { error: `States.${detail.status}`, cause: `the execution ended ${detail.status}; finalized by the node's stop rule` },
        executionArn: detail.executionArn,
      });
      tokenSecret = result.tokenSecret;
      envFile = result.envFile;
    } else {
      // Finalize already ran (this handler or the machine's own): revoking again is harmless and covers a run that ended before revoking.
      tokenSecret = await deleteTokenSecret(options.secrets ?? new SecretsManagerClient({}), tokenSecretName(nodeId, workflowInstanceId)).catch(() => "kept" as const);
      envFile = env.ENV_FILE_BUCKET
        ? await deleteEnvFile(s3, env.ENV_FILE_BUCKET, { computeNodeId: nodeId, workflowInstanceId }).then(
            () => "deleted" as const,
            () => "kept" as const,
          )
        : undefined;
    }

    const finishedAt = new Date(detail.stopDate ?? now().getTime()).toISOString();
    const updated = await updateRecord(dynamodb, table, workflowInstanceId, stored, options.maxRecordAttempts ?? 10, (record) => terminalRecord(record, detail.status, finishedAt, { logArchive, costReport }));
    return {
      outcome: done ? "already-finalized" : "finalized",
      workflowInstanceId,
      status: updated.record.status,
      canceledProcessors: updated.canceled,
      costReport,
      logArchive,
      ...(tokenSecret ? { tokenSecret } : {}),
      ...(envFile ? { envFile } : {}),
      ...(efsCleanup ? { efsCleanup } : {}),
    };
  };
}

/**
 * Invokes the data-transfer function's cleanup (merge dirs and downloaded input) with the paths the
 * compiled machine gives it (lib/compile/envelope.ts: `<mount>/<node>/{workdir,input}/<id>`); its guard
 * checks them again. Never fails the finalize: a failure is reported (`failed`) and node cleanup removes the dirs later.
 */
async function cleanupEfs(lambda: Pick<LambdaClient, "send">, functionName: string, computeNodeId: string, workflowInstanceId: string): Promise<"done" | "failed"> {
  const root = `${DEFAULT_EFS_MOUNT_PATH}/${computeNodeId}`;
  const payload = { action: TRANSFER_ACTIONS.cleanup, computeNodeId, workflowInstanceId, workdir: `${root}/workdir/${workflowInstanceId}`, inputDir: `${root}/input/${workflowInstanceId}` };
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
    return out.FunctionError ? "failed" : "done";
  } catch {
    return "failed";
  }
}

/**
 * The record once the run is over: CANCELED when a cancel was under way (CANCELING), otherwise the
 * event's status; a record that already is terminal keeps its status. No processor stays STARTED.
 * Returns undefined when there is nothing to change.
 */
export function terminalRecord(record: RecordItem, status: StopEventStatus, finishedAt: string, artifacts: Record<string, string>): { record: RecordItem; canceled: string[] } | undefined {
  const next: RecordItem = structuredClone(record);
  let changed = false;
  if (!TERMINAL.has(record.status)) {
    next.status = record.status === "CANCELING" ? "CANCELED" : status;
    next.finishedAt = record.finishedAt ?? finishedAt;
    if (next.status !== "CANCELED" && !record.error) next.error = { error: `States.${status}`, cause: `the execution ended ${status} without running its Finalize state` };
    changed = true;
  }
  const canceled: string[] = [];
  for (const [id, p] of Object.entries(next.processors ?? {})) {
    if (p.status !== "STARTED") continue;
    next.processors[id] = { ...p, status: "CANCELED", finishedAt: p.finishedAt ?? finishedAt, cause: p.cause ?? `the execution ended ${next.status}` };
    canceled.push(id);
  }
  const missing = Object.entries(artifacts).filter(([k, v]) => record.artifacts?.[k] !== v);
  if (missing.length) next.artifacts = { ...record.artifacts, ...Object.fromEntries(missing) };
  if (!changed && !canceled.length && !missing.length) return undefined;
  return { record: next, canceled: canceled.sort() };
}

async function updateRecord(
  dynamodb: Pick<DynamoDBClient, "send">,
  table: string,
  executionId: string,
  first: StoredRecord,
  attempts: number,
  change: (record: RecordItem) => { record: RecordItem; canceled: string[] } | undefined,
): Promise<{ record: RecordItem; canceled: string[] }> {
  let current: StoredRecord | undefined = first;
  for (let attempt = 0; attempt < attempts && current; attempt++) {
    const next = change(current.record);
    if (!next) return { record: current.record, canceled: [] };
    try {
      await dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            executionId: { S: executionId },
            computeNodeId: { S: next.record.computeNodeId },
            status: { S: next.record.status },
            version: { N: String(current.version + 1) },
            record: { B: gzipSync(JSON.stringify(next.record)) },
          },
          ConditionExpression: "#v = :v",
          ExpressionAttributeNames: { "#v": "version" },
          ExpressionAttributeValues: { ":v": { N: String(current.version) } },
        }),
      );
      return next;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      // Another writer (tracking, a cancel) got there first: apply the change to what it wrote.
      current = await readRecord(dynamodb, table, executionId);
    }
  }
  if (!current) throw new NotFoundError(`execution record "${executionId}" disappeared from ${table} while being finalized`);
  throw new ConflictError(`execution record "${executionId}" in ${table} kept changing: gave up after ${attempts} writes`, executionId);
}

async function readRecord(dynamodb: Pick<DynamoDBClient, "send">, table: string, executionId: string): Promise<StoredRecord | undefined> {
  const out = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { executionId: { S: executionId } }, ConsistentRead: true }));
  const bytes = out.Item?.record?.B;
  if (!bytes) return undefined;
  return { record: JSON.parse(gunzipSync(bytes).toString("utf8")) as RecordItem, version: Number(out.Item?.version?.N ?? 0) };
}

async function describeInput(sfn: Pick<SFNClient, "send">, executionArn: string): Promise<string | undefined> {
  try {
    return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).input;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The ids of the execution's input (`{"workflowInstanceId","computeNodeId",…}`); undefined when absent, truncated or not JSON. Nothing else of it is kept: it names the token secret. */
function idsOf(input: string | null | undefined): { workflowInstanceId: string; computeNodeId: string } | undefined {
  if (!input) return undefined;
  try {
    const parsed = JSON.parse(input) as Record<string, unknown>;
    if (typeof parsed.workflowInstanceId === "string" && parsed.workflowInstanceId && typeof parsed.computeNodeId === "string" && parsed.computeNodeId)
      return { workflowInstanceId: parsed.workflowInstanceId, computeNodeId: parsed.computeNodeId };
  } catch {
    // Truncated (EventBridge caps detail.input): ask DescribeExecution.
  }
  return undefined;
}

async function objectExists(s3: Pick<S3Client, "send">, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    // HeadObject has no body, so S3's 404 arrives without an error code: the status is the answer.
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || isNotFound(err)) return false;
    throw err;
  }
}

function required(env: NodeJS.ProcessEnv, key: string): string {
  const value = env[key];
  if (!value) throw new FinalizeConfigError(`the finalize function needs the ${key} environment variable to finalize stopped executions`);
  return value;
}
