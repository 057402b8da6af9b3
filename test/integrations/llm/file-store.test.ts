import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LlmUsageRecord, NANO_PER_USD } from "../../../lib/integrations/llm/contract";
import { FileUsageStore } from "../../../lib/integrations/llm/file-store";
import { BudgetCounter, Reservation, budgetCounters } from "../../../lib/integrations/llm/store";

const NOW = new Date("2026-12-02T10:00:00Z");
const counters = (executionId: string, userId?: string) =>
  budgetCounters({ nodeDailyUsd: 10, nodeMonthlyUsd: 100, executionUsd: 2, userDailyUsd: 3, userMonthlyUsd: 30 }, { computeNodeId: "n1", executionId, userId }, NOW);

function reservation(id: string, amountUsd: number, list: BudgetCounter[], expiresAtMs = NOW.getTime() + 960_000): Reservation {
  return { id, counters: list, amountNano: amountUsd * NANO_PER_USD, expiresAtMs, call: { callId: id, computeNodeId: "n1", executionId: "wi-1", model: "claude-haiku-4-5", bedrockModelId: "b", stream: false, startedAt: NOW.toISOString() } };
}

function usage(id: string, costUsd: number, outcome: LlmUsageRecord["outcome"] = "ok", startedAt = NOW.toISOString()): LlmUsageRecord {
  return { callId: id, computeNodeId: "n1", executionId: "wi-1", model: "claude-haiku-4-5", bedrockModelId: "b", stream: false, inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, costUsd, reservedUsd: 1, usageEstimated: false, startedAt, latencyMs: 1, outcome };
}

const tmp = () => mkdtempSync(join(tmpdir(), "cn-llm-store-"));

describe("FileUsageStore", function () {
  this.timeout(60000);

  it("grants reservations at every level at once or not at all, naming the level that refused", async () => {
    const store = new FileUsageStore({ dir: tmp() });
    expect(await store.reserve(reservation("a", 1.5, counters("wi-1", "u-1")))).to.deep.equal({ reserved: true });
    // The execution has $0.50 left: refused there, and nothing was added anywhere.
    const refused = await store.reserve(reservation("b", 1, counters("wi-1", "u-1")));
    expect(refused).to.deep.include({ reserved: false, committedNano: 1.5 * NANO_PER_USD });
    expect(refused.reserved === false && refused.counter.level).to.equal("execution");
    const state = await store.counters(counters("wi-1", "u-1").map((c) => c.key));
    expect([...state.values()].map((s) => s.committedNano)).to.deep.equal(Array(5).fill(1.5 * NANO_PER_USD));
    // The same user's daily budget ($3) refuses a second execution once it has $1.50 left.
    expect(await store.reserve(reservation("c", 1.4, counters("wi-2", "u-1")))).to.deep.equal({ reserved: true });
    const user = await store.reserve(reservation("d", 0.2, counters("wi-3", "u-1")));
    expect(user.reserved === false && user.counter.level).to.equal("userDaily");
  });

  it("settles the real cost in place of the reservation, once, and keeps the execution's totals", async () => {
    const store = new FileUsageStore({ dir: tmp() });
    const r = reservation("a", 1, counters("wi-1"));
    await store.reserve(r);
    await store.settle({ reservation: r, costNano: 0.25 * NANO_PER_USD, usage: usage("a", 0.25) });
    const totals = await store.executionTotals("wi-1");
    expect(totals).to.deep.include({ calls: 1, inputTokens: 10, outputTokens: 5, costUsd: 0.25, reservedUsd: 0 });
    expect(totals.byModel).to.deep.equal({ "claude-haiku-4-5": { calls: 1, inputTokens: 10, outputTokens: 5, costUsd: 0.25 } });
    expect((await store.usage({ until: new Date("2100-01-01") })).map((u) => u.callId)).to.deep.equal(["a"]);
  });

  it("adds the whole cost of a call whose reservation a sweep freed meanwhile", async () => {
    const store = new FileUsageStore({ dir: tmp() });
    const r = reservation("slow", 1, counters("wi-1"), NOW.getTime() + 1000);
    await store.reserve(r);
    expect(await store.sweepExpired(new Date(NOW.getTime() + 1001))).to.equal(1);
    await store.settle({ reservation: r, costNano: 0.4 * NANO_PER_USD, usage: usage("slow", 0.4) });
    const [execution] = (await store.counters([counters("wi-1")[2].key])).values();
    expect(execution).to.deep.equal({ committedNano: 0.4 * NANO_PER_USD, spentNano: 0.4 * NANO_PER_USD });
  });

  it("keeps a cap across store instances racing on one directory (the lock, not the in-process queue, orders them)", async () => {
    const dir = tmp();
    const stores = [new FileUsageStore({ dir }), new FileUsageStore({ dir }), new FileUsageStore({ dir })];
    const attempts = Array.from({ length: 30 }, (_, i) => stores[i % 3].reserve(reservation(`r${i}`, 0.3, counters("wi-1"))));
    const granted = (await Promise.all(attempts)).filter((o) => o.reserved).length;
    expect(granted).to.equal(6); // floor($2 / $0.30)
    const [execution] = (await stores[0].counters([counters("wi-1")[2].key])).values();
    expect(execution.committedNano).to.equal(1_800_000_000);
  });

  it("keeps a cap across processes sharing the directory", async () => {
    const dir = tmp();
    const worker = resolve(__dirname, "fixtures", "reserve-worker.ts");
    const run = (tag: string) =>
      new Promise<number>((ok, fail) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", worker, dir, tag, "20", String(0.25 * NANO_PER_USD), String(2 * NANO_PER_USD)], { stdio: ["ignore", "pipe", "ignore"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("error", fail);
        child.on("exit", (code) => (code === 0 ? ok((JSON.parse(out) as { granted: number }).granted) : fail(new Error(`worker exited ${code}`))));
      });
    const [a, b] = await Promise.all([run("a"), run("b")]);
    expect(a + b).to.equal(8); // $2 / $0.25, whichever process got them
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("frees expired reservations on a sweep, recording each abandoned call, and leaves live ones", async () => {
    const store = new FileUsageStore({ dir: tmp() });
    await store.reserve(reservation("old", 1, counters("wi-1"), NOW.getTime() + 10));
    await store.reserve(reservation("live", 0.5, counters("wi-1"), NOW.getTime() + 960_000));
    expect(await store.sweepExpired(new Date(NOW.getTime() + 11))).to.equal(1);
    expect(await store.sweepExpired(new Date(NOW.getTime() + 12))).to.equal(0);
    expect((await store.executionTotals("wi-1")).reservedUsd).to.equal(0.5);
    const records = await store.usage({ until: new Date("2100-01-01") });
    expect(records.map((r) => [r.callId, r.outcome, r.reservedUsd])).to.deep.equal([["old", "abandoned", 1]]);
  });

  it("finds usage by execution and time, and forgets usage files past the retention period", async () => {
    const store = new FileUsageStore({ dir: tmp() });
    await store.recordRefusal({ ...usage("early", 0, "refused", "2026-08-01T09:00:00.000Z"), executionId: "wi-0" });
    await store.recordRefusal(usage("late", 0, "refused", "2026-12-02T09:00:00.000Z"));
    expect((await store.usage({ since: new Date("2026-12-01T00:00:00Z"), until: NOW })).map((r) => r.callId)).to.deep.equal(["late"]);
    expect((await store.usage({ executionId: "wi-0", until: NOW })).map((r) => r.callId)).to.deep.equal(["early"]);
    await store.sweepExpired(NOW);
    expect((await store.usage({ until: NOW })).map((r) => r.callId)).to.deep.equal(["late"]);
  });
});
