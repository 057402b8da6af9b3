import { expect } from "chai";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { diffRecord, ExecutionEventHub } from "../../lib/provision/execution-events";

const record = (status: ExecutionRecord["status"], processors: ExecutionRecord["processors"], extra: Partial<ExecutionRecord> = {}) =>
  ({ executionId: "wi-1", status, processors, createdAt: "2026-01-01T00:00:00Z", startedAt: "2026-01-01T00:00:01Z", ...extra }) as ExecutionRecord;

const shown = (events: ReturnType<typeof diffRecord>) => events.map((e) => (e.type === "processor-status" ? `${e.processorId}:${e.status}` : e.status));

describe("diffRecord", () => {
  it("fills in the transitions missed between two readings, in the order they happened", () => {
    const finished = record("SUCCEEDED", {
      b: { status: "SUCCEEDED", startedAt: "2026-01-01T00:00:03Z", finishedAt: "2026-01-01T00:00:04Z" },
      a: { status: "SUCCEEDED", startedAt: "2026-01-01T00:00:01Z", finishedAt: "2026-01-01T00:00:02Z" },
    });
    expect(shown(diffRecord({ status: "PENDING", processors: {} }, finished))).to.deep.equal(["RUNNING", "a:STARTED", "a:SUCCEEDED", "b:STARTED", "b:SUCCEEDED", "SUCCEEDED"]);
  });

  it("puts CANCELING before the processors it stopped and the terminal status last", () => {
    const before = { status: "RUNNING" as const, processors: { a: "STARTED" as const } };
    expect(shown(diffRecord(before, record("CANCELING", { a: { status: "STARTED", startedAt: "t1" } })))).to.deep.equal(["CANCELING"]);
    const canceled = record("CANCELED", { a: { status: "CANCELED", startedAt: "t1", finishedAt: "t2" } }, { error: { error: "ExecutionCanceled" } });
    const events = diffRecord({ status: "CANCELING", processors: { a: "STARTED" } }, canceled);
    expect(shown(events)).to.deep.equal(["a:CANCELED", "CANCELED"]);
    expect(events[1]).to.deep.include({ error: { error: "ExecutionCanceled" } });
  });

  it("reports nothing when nothing changed", () => {
    expect(diffRecord({ status: "RUNNING", processors: { a: "STARTED" } }, record("RUNNING", { a: { status: "STARTED", startedAt: "t" } }))).to.deep.equal([]);
  });
});

describe("ExecutionEventHub", () => {
  it("numbers events from 1 per execution and replays only those after the given id", async () => {
    let current = record("RUNNING", { a: { status: "STARTED", startedAt: "t1" } });
    const hub = new ExecutionEventHub({ read: async () => current, now: () => new Date("2026-01-01T00:00:00Z") });
    const live: number[] = [];
    const first = await hub.watch("wi-1", 0, (e) => live.push(e.sequence));
    expect(first.backlog.map((e) => e.sequence)).to.deep.equal([1, 2, 3]);
    expect(first.live).to.equal(true);
    current = record("SUCCEEDED", { a: { status: "SUCCEEDED", startedAt: "t1", finishedAt: "t2" } });
    await hub.observe("wi-1");
    expect(live).to.deep.equal([4, 5]);
    first.unsubscribe();
    const resumed = await hub.watch("wi-1", 3, () => undefined);
    expect(resumed.live).to.equal(false);
    expect(resumed.backlog.map((e) => [e.sequence, e.status])).to.deep.equal([
      [4, "SUCCEEDED"],
      [5, "SUCCEEDED"],
    ]);
  });
});
