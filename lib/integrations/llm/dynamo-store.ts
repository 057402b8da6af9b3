import {
  AttributeValue,
  CreateTableCommandInput,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  QueryCommandOutput,
  TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { isTransactionCanceled, transactionCancellationCodes } from "../../runtime/aws/errors";
import { ExecutionLlmTotals, LlmUsageRecord, USAGE_RETENTION_DAYS, emptyExecutionTotals, usdFromNano } from "./contract";
import { BudgetCounter, CounterState, Reservation, ReserveOutcome, Settlement, UsageQuery, UsageStore, abandonedUsage, executionCounterKey, usageExpiry } from "./store";

export interface DynamoUsageStoreOptions {
  dynamodb: Pick<DynamoDBClient, "send">;
  tableName: string;
  /** Attempts of a transaction that DynamoDB cancelled for a conflicting concurrent transaction. @default 25 */
  conflictAttempts?: number;
  /** Waits between conflict retries (tests pass an immediate one). @default a random 5–50 ms timer */
  pause?: (attempt: number) => Promise<void>;
}

/** The item attribute DynamoDB's TTL reads (epoch seconds). */
export const USAGE_TTL_ATTRIBUTE = "expiresAt";
/** The index usage items are read by execution through. */
export const BY_EXECUTION_INDEX = "byExecution";

const TOTAL = "total";
const RESERVATIONS = "reservation";
const DAY_MS = 24 * 3600 * 1000;

/** The usage table: `pk`/`sk` strings, a sparse `byExecution` index (executionId, sk) over usage items, TTL on `expiresAt`. */
export function usageTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
      { AttributeName: "executionId", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: BY_EXECUTION_INDEX,
        KeySchema: [
          { AttributeName: "executionId", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
    ],
  };
}

/**
 * Budgets, reservations and usage in one DynamoDB table. A counter holds `committedNano` (settled
 * spend plus live reservations) and `spentNano`. A reservation is one `TransactWriteItems`: an
 * `ADD committedNano` on every counter, each conditioned on `committedNano <= cap − amount` (condition
 * expressions cannot add, so the caller's side of the sum is precomputed), and the reservation item;
 * either all succeed or none. Settling and releasing delete the reservation item under
 * `attribute_exists`, in the same transaction as the counters, so a reservation is given back once
 * whether the call settles, fails, or a sweep frees it after a crash.
 */
export class DynamoUsageStore implements UsageStore {
  constructor(private readonly options: DynamoUsageStoreOptions) {}

  async reserve(reservation: Reservation): Promise<ReserveOutcome> {
    const tooBig = reservation.counters.find((c) => reservation.amountNano > c.capNano);
    if (tooBig) return { reserved: false, counter: tooBig, committedNano: (await this.counter(tooBig.key)).committedNano };
    const items: TransactWriteItem[] = reservation.counters.map((c) => ({
      Update: {
        TableName: this.options.tableName,
        Key: counterKey(c.key),
        UpdateExpression: "ADD committedNano :amount SET capNano = :cap, #level = :level, #window = :window, expiresAt = :exp",
        ConditionExpression: "attribute_not_exists(committedNano) OR committedNano <= :limit",
        ExpressionAttributeNames: { "#level": "level", "#window": "window" },
        ExpressionAttributeValues: {
          ":amount": num(reservation.amountNano),
          ":cap": num(c.capNano),
          ":limit": num(c.capNano - reservation.amountNano),
          ":level": { S: c.level },
          ":window": { S: c.window },
          ":exp": num(c.expiresAt),
        },
      },
    }));
    items.push({ Put: { TableName: this.options.tableName, Item: reservationItem(reservation), ConditionExpression: "attribute_not_exists(pk)" } });
    const failed = await this.transact(items, `r-${reservation.id}`);
    if (failed === undefined) return { reserved: true };
    const counter = reservation.counters[failed];
    if (!counter) throw new Error(`reservation ${reservation.id} already exists in ${this.options.tableName}`);
    return { reserved: false, counter, committedNano: (await this.counter(counter.key)).committedNano };
  }

  async settle(settlement: Settlement): Promise<void> {
    const { reservation, costNano, usage } = settlement;
    const attempt = (held: boolean) => {
      const items: TransactWriteItem[] = held ? [{ Delete: { TableName: this.options.tableName, Key: reservationKey(reservation), ConditionExpression: "attribute_exists(pk)" } }] : [];
      for (const c of reservation.counters) items.push({ Update: this.settleCounter(c, costNano - (held ? reservation.amountNano : 0), costNano, usage) });
      items.push({ Put: { TableName: this.options.tableName, Item: usageItem(usage, costNano) } });
      return this.transact(items, `${held ? "s" : "u"}-${reservation.id}`);
    };
    // The reservation item is gone when a sweep freed it (this call outlived its reservation): the whole cost is then added.
    if ((await attempt(true)) === 0) await attempt(false);
  }

  async release(reservation: Reservation, usage: LlmUsageRecord): Promise<void> {
    const items: TransactWriteItem[] = [
      { Delete: { TableName: this.options.tableName, Key: reservationKey(reservation), ConditionExpression: "attribute_exists(pk)" } },
      ...reservation.counters.map((c): TransactWriteItem => ({
        Update: { TableName: this.options.tableName, Key: counterKey(c.key), UpdateExpression: "ADD committedNano :minus", ExpressionAttributeValues: { ":minus": num(-reservation.amountNano) } },
      })),
      { Put: { TableName: this.options.tableName, Item: usageItem(usage, 0) } },
    ];
    if ((await this.transact(items, `l-${reservation.id}`)) === 0) await this.recordRefusal(usage);
  }

  async recordRefusal(usage: LlmUsageRecord): Promise<void> {
    await this.transact([{ Put: { TableName: this.options.tableName, Item: usageItem(usage, 0) } }], `f-${usage.callId}`);
  }

  async sweepExpired(now: Date): Promise<number> {
    let freed = 0;
    let start: QueryCommandOutput["LastEvaluatedKey"];
    do {
      const page: QueryCommandOutput = await this.options.dynamodb.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: "pk = :pk AND sk < :now",
          ExpressionAttributeValues: { ":pk": { S: RESERVATIONS }, ":now": { S: now.toISOString() } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const reservation = JSON.parse(item.reservation.S!) as Reservation;
        const items: TransactWriteItem[] = [
          { Delete: { TableName: this.options.tableName, Key: reservationKey(reservation), ConditionExpression: "attribute_exists(pk)" } },
          ...reservation.counters.map((c): TransactWriteItem => ({
            Update: { TableName: this.options.tableName, Key: counterKey(c.key), UpdateExpression: "ADD committedNano :minus", ExpressionAttributeValues: { ":minus": num(-reservation.amountNano) } },
          })),
          { Put: { TableName: this.options.tableName, Item: usageItem(abandonedUsage(reservation, now), 0) } },
        ];
        // Settled or freed by someone else since the query: nothing to give back.
        if ((await this.transact(items, `w-${reservation.id}`)) === undefined) freed++;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return freed;
  }

  async counters(keys: string[]): Promise<Map<string, CounterState>> {
    return new Map(await Promise.all(keys.map(async (k) => [k, await this.counter(k)] as const)));
  }

  async executionTotals(executionId: string): Promise<ExecutionLlmTotals> {
    const out = await this.options.dynamodb.send(new GetItemCommand({ TableName: this.options.tableName, Key: counterKey(executionCounterKey(executionId)), ConsistentRead: true }));
    return executionTotalsOf(executionId, out.Item);
  }

  async usage(query: UsageQuery): Promise<LlmUsageRecord[]> {
    const records: LlmUsageRecord[] = [];
    const collect = async (input: ConstructorParameters<typeof QueryCommand>[0]) => {
      let start: QueryCommandOutput["LastEvaluatedKey"];
      do {
        const page: QueryCommandOutput = await this.options.dynamodb.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
        for (const item of page.Items ?? []) if (item.record?.S) records.push(JSON.parse(item.record.S) as LlmUsageRecord);
        start = page.LastEvaluatedKey;
      } while (start);
    };
    const range = skRange(query);
    if (query.executionId) {
      await collect({
        TableName: this.options.tableName,
        IndexName: BY_EXECUTION_INDEX,
        KeyConditionExpression: "executionId = :e AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: { ":e": { S: query.executionId }, ":from": { S: range.from }, ":to": { S: range.to } },
      });
    } else {
      // One partition per day; without `since`, the retention period.
      const until = query.until;
      const since = query.since ?? new Date(until.getTime() - USAGE_RETENTION_DAYS * DAY_MS);
      for (let day = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()); day <= until.getTime(); day += DAY_MS)
        await collect({
          TableName: this.options.tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
          ExpressionAttributeValues: { ":pk": { S: `usage#${new Date(day).toISOString().slice(0, 10)}` }, ":from": { S: range.from }, ":to": { S: range.to } },
          ConsistentRead: true,
        });
    }
    return records.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  private async counter(key: string): Promise<CounterState> {
    const out = await this.options.dynamodb.send(new GetItemCommand({ TableName: this.options.tableName, Key: counterKey(key), ConsistentRead: true }));
    return { committedNano: Number(out.Item?.committedNano?.N ?? 0), spentNano: Number(out.Item?.spentNano?.N ?? 0) };
  }

  private settleCounter(c: BudgetCounter, deltaNano: number, costNano: number, usage: LlmUsageRecord) {
    const names: Record<string, string> = { "#level": "level", "#window": "window" };
    const values: Record<string, AttributeValue> = {
      ":delta": num(deltaNano),
      ":cost": num(costNano),
      ":one": num(1),
      ":in": num(usage.inputTokens),
      ":out": num(usage.outputTokens),
      ":cw": num(usage.cacheCreationInputTokens),
      ":cr": num(usage.cacheReadInputTokens),
      ":exp": num(c.expiresAt),
      ":cap": num(c.capNano),
      ":level": { S: c.level },
      ":window": { S: c.window },
    };
    let add = "committedNano :delta, spentNano :cost, calls :one, inputTokens :in, outputTokens :out, cacheCreationInputTokens :cw, cacheReadInputTokens :cr";
    if (c.level === "execution") {
      // Flat attributes per model: ADD cannot create a nested map path that does not exist yet.
      Object.assign(names, { "#mc": modelAttr(usage.model, "calls"), "#mi": modelAttr(usage.model, "inputTokens"), "#mo": modelAttr(usage.model, "outputTokens"), "#mn": modelAttr(usage.model, "costNano") });
      values[":allIn"] = num(usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens);
      add += ", #mc :one, #mi :allIn, #mo :out, #mn :cost";
    }
    return {
      TableName: this.options.tableName,
      Key: counterKey(c.key),
      UpdateExpression: `ADD ${add} SET expiresAt = :exp, capNano = if_not_exists(capNano, :cap), #level = :level, #window = :window`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * Runs a transaction; answers undefined when it committed, or the index of the first item whose
   * condition failed. Cancellations for conflicting concurrent transactions are retried. The client
   * request token makes the SDK's own retries (a lost response) idempotent: a settle applied twice
   * would charge twice. Each of our retries after a cancellation is a new request, with a new token.
   */
  private async transact(items: TransactWriteItem[], token: string): Promise<number | undefined> {
    const attempts = this.options.conflictAttempts ?? 25;
    const pause = this.options.pause ?? ((n: number) => new Promise<void>((r) => setTimeout(r, Math.min(50, 5 * n) * (0.5 + Math.random()))));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: `${attempt}${token}`.slice(0, 36) }));
        return undefined;
      } catch (err) {
        if (!isTransactionCanceled(err)) throw err;
        const reasons = transactionCancellationCodes(err);
        const failed = reasons.findIndex((code) => code === "ConditionalCheckFailed");
        if (failed >= 0) return failed;
        const retryable = reasons.length === 0 || reasons.some((code) => code === "TransactionConflict" || code === "ThrottlingError" || code === "ProvisionedThroughputExceeded");
        if (!retryable || attempt >= attempts) throw err;
        await pause(attempt);
      }
    }
  }
}

/** Reads an execution's totals from its budget counter item (also what finalize's cost report prints). */
export function executionTotalsOf(executionId: string, item: Record<string, AttributeValue> | undefined): ExecutionLlmTotals {
  if (!item) return emptyExecutionTotals(executionId);
  const n = (name: string) => Number(item[name]?.N ?? 0);
  const byModel: ExecutionLlmTotals["byModel"] = {};
  for (const name of Object.keys(item)) {
    const match = /^m#(.+)#calls$/.exec(name);
    if (!match) continue;
    const model = match[1];
    byModel[model] = { calls: n(name), inputTokens: n(modelAttr(model, "inputTokens")), outputTokens: n(modelAttr(model, "outputTokens")), costUsd: usdFromNano(n(modelAttr(model, "costNano"))) };
  }
  return {
    executionId,
    calls: n("calls"),
    inputTokens: n("inputTokens"),
    outputTokens: n("outputTokens"),
    cacheCreationInputTokens: n("cacheCreationInputTokens"),
    cacheReadInputTokens: n("cacheReadInputTokens"),
    costUsd: usdFromNano(n("spentNano")),
    reservedUsd: usdFromNano(n("committedNano") - n("spentNano")),
    byModel,
  };
}


function modelAttr(model: string, field: string): string {
  return `m#${model}#${field}`;
}

function counterKey(key: string): Record<string, AttributeValue> {
  return { pk: { S: key }, sk: { S: TOTAL } };
}

function reservationKey(reservation: Reservation): Record<string, AttributeValue> {
  return { pk: { S: RESERVATIONS }, sk: { S: `${new Date(reservation.expiresAtMs).toISOString()}#${reservation.id}` } };
}

function reservationItem(reservation: Reservation): Record<string, AttributeValue> {
  return { ...reservationKey(reservation), reservation: { S: JSON.stringify(reservation) }, executionRef: { S: reservation.call.executionId } };
}

function usageItem(usage: LlmUsageRecord, costNano: number): Record<string, AttributeValue> {
  return {
    pk: { S: `usage#${usage.startedAt.slice(0, 10)}` },
    // A late settle of a call a sweep gave up on records it too: both items stay.
    sk: { S: `${usage.startedAt}#${usage.callId}${usage.outcome === "abandoned" ? "#abandoned" : ""}` },
    executionId: { S: usage.executionId },
    model: { S: usage.model },
    outcome: { S: usage.outcome },
    costNano: num(costNano),
    record: { S: JSON.stringify(usage) },
    [USAGE_TTL_ATTRIBUTE]: num(usageExpiry(new Date(usage.startedAt))),
  };
}

function skRange(query: UsageQuery): { from: string; to: string } {
  return { from: query.since ? query.since.toISOString() : "0", to: `${query.until.toISOString()}~` };
}

function num(n: number): AttributeValue {
  return { N: String(Math.round(n)) };
}
