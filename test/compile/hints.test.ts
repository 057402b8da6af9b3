import { expect } from "chai";
import { hintsFromRecords } from "../../lib/compile";
import { ExecutionRecord } from "../../lib/model/execution-record";

const record = (processors: ExecutionRecord["processors"]) => ({ processors }) as unknown as ExecutionRecord;

describe("hintsFromRecords", () => {
  it("takes the median duration of each processor's successful runs", () => {
    const runs = [10, 30, 20].map((s) => record({ a: { status: "SUCCEEDED", startedAt: "2026-01-01T00:00:00Z", finishedAt: new Date(Date.parse("2026-01-01T00:00:00Z") + s * 1000).toISOString() } }));
    expect(hintsFromRecords(runs)).to.deep.equal({ a: 20 });
  });

  it("ignores failed and unfinished runs", () => {
    const hints = hintsFromRecords([
      record({ a: { status: "FAILED", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:05Z" }, b: { status: "STARTED", startedAt: "2026-01-01T00:00:00Z" } }),
    ]);
    expect(hints).to.deep.equal({});
  });
});
