import { expect } from "chai";
import { advanceProcessorState } from "../../lib/model/execution-record";

describe("advanceProcessorState", () => {
  it("moves a processor forward from NOT_STARTED through STARTED to SUCCEEDED", () => {
    let state = advanceProcessorState({ status: "NOT_STARTED" }, { status: "STARTED", startedAt: "t1" });
    state = advanceProcessorState(state, { status: "SUCCEEDED", finishedAt: "t2", exitCode: 0 });
    expect(state).to.deep.equal({ status: "SUCCEEDED", startedAt: "t1", finishedAt: "t2", exitCode: 0 });
  });

  it("ignores a late STARTED that arrives after the processor already FAILED", () => {
    const failed = { status: "FAILED" as const, cause: "exit code 3", exitCode: 3 };
    expect(advanceProcessorState(failed, { status: "STARTED", startedAt: "t9" })).to.equal(failed);
  });

  it("keeps the first final state when a second final state arrives", () => {
    const done = { status: "SUCCEEDED" as const, finishedAt: "t2" };
    expect(advanceProcessorState(done, { status: "FAILED", cause: "x" })).to.equal(done);
  });

  it("lets a retried processor record a new attempt while still STARTED", () => {
    const next = advanceProcessorState({ status: "STARTED", attempts: 1 }, { status: "STARTED", attempts: 2 });
    expect(next.attempts).to.equal(2);
  });
});
