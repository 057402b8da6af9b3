import { expect } from "chai";
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { LlmUsageRecord, NANO_PER_USD } from "../../lib/integrations/llm/contract";
import { DynamoUsageStore, usageTableDefinition } from "../../lib/integrations/llm/dynamo-store";
import { readExecutionLlmTotals } from "../../lib/integrations/llm/lambda";
import { BudgetCounter, Reservation, budgetCounters } from "../../lib/integrations/llm/store";
import { sdkConfig } from "./fixtures";
import { useMoto } from "./moto";

const TABLE = "cn-n1-llm-usage";
const NOW = new Date("2026-12-02T10:00:00Z");
const BUDGETS = { nodeDailyUsd: 10, nodeMonthlyUsd: 100, executionUsd: 2, userDailyUsd: 3, userMonthlyUsd: 30 };
const counters = (executionId: string, userId?: string) => budgetCounters(BUDGETS, { computeNodeId: "n1", executionId, userId }, NOW);

function reservation(id: string, amountNano: number, list: BudgetCounter[], expiresAtMs = NOW.getTime() + 960_000, executionId = "wi-1"): Reservation {
  return { id, counters: list, amountNano, expiresAtMs, call: { callId: id, computeNodeId: "n1", executionId, model: "claude-haiku-4-5", bedrockModelId: "us.anthropic.claude-haiku-4-5-20251001-v1:0", stream: false, startedAt: NOW.toISOString() } };
}

function usage(r: Reservation, costNano: number, startedAt = NOW.toISOString()): LlmUsageRecord {
  return { ...r.call, startedAt, inputTokens: 100, outputTokens: 20, cacheCreationInputTokens: 0, cacheReadInputTokens: 40, costUsd: costNano / NANO_PER_USD, reservedUsd: r.amountNano / NANO_PER_USD, usageEstimated: false, latencyMs: 12, outcome: "ok" };
}

/**
 * moto applies a TransactWriteItems without isolation from the requests its other threads serve (it
 * deep-copies tables mid-write and can fail with "dictionary changed size"); DynamoDB isolates
 * transactions. The race tests therefore send their concurrent calls through one queue: they check the
 * conditions and the accounting, and the file store's tests check concurrency itself.
 */
function oneAtATime(client: DynamoDBClient): Pick<DynamoDBClient, "send"> {
  let queue: Promise<unknown> = Promise.resolve();
  return {
    send: ((command: never) => {
      const next = queue.then(() => client.send(command));
      queue = next.catch(() => undefined);
      return next;
    }) as DynamoDBClient["send"],
  };
}

describe("DynamoUsageStore (moto)", function () {
  this.timeout(120000);
  const moto = useMoto();
  let dynamodb: DynamoDBClient;
  let store: DynamoUsageStore;
  beforeEach(async () => {
    dynamodb = new DynamoDBClient(sdkConfig(moto.endpoint));
    await dynamodb.send(new CreateTableCommand(usageTableDefinition(TABLE)));
    store = new DynamoUsageStore({ dynamodb: oneAtATime(dynamodb), tableName: TABLE, pause: async () => undefined });
  });

  it("never commits more than a cap however many reservations race for it, at any level", async () => {
    // 25 reservations of $0.30 against the execution's $2 and, for another execution, the user's $3 a day.
    const amount = 0.3 * NANO_PER_USD;
    const race = async (list: () => BudgetCounter[], prefix: string) => (await Promise.all(Array.from({ length: 25 }, (_, i) => store.reserve(reservation(`${prefix}${i}`, amount, list()))))).filter((o) => o.reserved).length;
    expect(await race(() => counters("wi-1", "u-1"), "a")).to.equal(6);
    expect(await race(() => counters("wi-2", "u-1"), "b")).to.equal(4); // the user had $1.20 left of $3
    const state = await store.counters([counters("wi-1", "u-1")[2].key, counters("wi-1", "u-1")[3].key]);
    expect([...state.values()].map((s) => s.committedNano)).to.deep.equal([6 * amount, 10 * amount]);
  });

  it("names the level that refused and what it holds, changing nothing", async () => {
    await store.reserve(reservation("a", 1.5 * NANO_PER_USD, counters("wi-1", "u-1")));
    const refused = await store.reserve(reservation("b", NANO_PER_USD, counters("wi-1", "u-1")));
    expect(refused.reserved).to.equal(false);
    if (refused.reserved) return;
    expect(refused.counter.level).to.equal("execution");
    expect(refused.committedNano).to.equal(1.5 * NANO_PER_USD);
    const nodeDaily = await store.counters([counters("wi-1")[0].key]);
    expect(nodeDaily.get(counters("wi-1")[0].key)!.committedNano).to.equal(1.5 * NANO_PER_USD);
    // Larger than the cap itself: refused without a write.
    const huge = await store.reserve(reservation("c", 5 * NANO_PER_USD, counters("wi-9")));
    expect(huge.reserved === false && huge.counter.level).to.equal("execution");
  });

  it("settles real usage once, keeps per-execution totals the cost report reads, and releases failed calls", async () => {
    const a = reservation("a", NANO_PER_USD, counters("wi-1", "u-1"));
    const b = reservation("b", NANO_PER_USD, counters("wi-1", "u-1"));
    await store.reserve(a);
    await store.reserve(b);
    await store.settle({ reservation: a, costNano: 250_000_000, usage: usage(a, 250_000_000) });
    await store.release(b, { ...usage(b, 0), outcome: "bedrock_error", error: "bedrock_throttled", costUsd: 0 });
    const totals = await readExecutionLlmTotals({ dynamodb, tableName: TABLE }, "wi-1");
    expect(totals).to.deep.include({ executionId: "wi-1", calls: 1, inputTokens: 100, outputTokens: 20, cacheReadInputTokens: 40, costUsd: 0.25, reservedUsd: 0 });
    expect(totals.byModel).to.deep.equal({ "claude-haiku-4-5": { calls: 1, inputTokens: 140, outputTokens: 20, costUsd: 0.25 } });
    expect(await readExecutionLlmTotals({ dynamodb, tableName: TABLE }, "wi-none")).to.deep.include({ calls: 0, costUsd: 0 });
    const records = await store.usage({ executionId: "wi-1", until: new Date("2100-01-01") });
    expect(records.map((r) => [r.callId, r.outcome])).to.have.deep.members([["a", "ok"], ["b", "bedrock_error"]]);
  });

  it("frees reservations a crashed governor left once they expire, and a late settle then adds its whole cost", async () => {
    const crashed = reservation("crashed", 1.8 * NANO_PER_USD, counters("wi-1"), NOW.getTime() + 1000);
    const slow = reservation("slow", 0.1 * NANO_PER_USD, counters("wi-1"), NOW.getTime() + 2000);
    await store.reserve(crashed);
    await store.reserve(slow);
    expect((await store.reserve(reservation("blocked", 0.5 * NANO_PER_USD, counters("wi-1")))).reserved).to.equal(false);
    expect(await store.sweepExpired(new Date(NOW.getTime() + 1500))).to.equal(1);
    expect((await store.reserve(reservation("now-fits", 0.5 * NANO_PER_USD, counters("wi-1")))).reserved).to.equal(true);
    expect(await store.sweepExpired(new Date(NOW.getTime() + 2500))).to.equal(1);
    await store.settle({ reservation: slow, costNano: 0.05 * NANO_PER_USD, usage: usage(slow, 0.05 * NANO_PER_USD) });
    const totals = await store.executionTotals("wi-1");
    expect(totals.costUsd).to.equal(0.05);
    expect(totals.reservedUsd).to.equal(0.5);
    const outcomes = (await store.usage({ executionId: "wi-1", until: new Date("2100-01-01") })).map((r) => [r.callId, r.outcome]);
    expect(outcomes).to.have.deep.members([["crashed", "abandoned"], ["slow", "abandoned"], ["slow", "ok"]]);
  });

  it("finds usage by day, gives every item a 90-day TTL and keeps no reservation item after settling", async () => {
    const r = reservation("d", NANO_PER_USD, counters("wi-1"));
    await store.reserve(r);
    await store.settle({ reservation: r, costNano: 1000, usage: usage(r, 1000) });
    await store.recordRefusal({ ...usage(reservation("old", 1, counters("wi-1")), 0, "2026-11-20T08:00:00.000Z"), outcome: "refused", error: "budget_exceeded", costUsd: 0 });
    expect((await store.usage({ since: new Date("2026-12-01T00:00:00Z"), until: NOW })).map((x) => x.callId)).to.deep.equal(["d"]);
    expect((await store.usage({ until: NOW })).map((x) => x.callId)).to.deep.equal(["old", "d"]);
    const items = (await dynamodb.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
    expect(items.filter((i) => i.pk.S === "reservation")).to.deep.equal([]);
    const item = items.find((i) => i.pk.S === "usage#2026-12-02")!;
    expect(Number(item.expiresAt.N)).to.equal(Math.floor(NOW.getTime() / 1000) + 90 * 24 * 3600);
  });
});
