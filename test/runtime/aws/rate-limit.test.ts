import { expect } from "chai";
import { createRateLimits, DEFAULT_RATES } from "../../../lib/runtime/aws/rate-limit";

const throttle = () => Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });

describe("createRateLimits", () => {
  it("keeps AWS's budgets for the operations the runtime is throttled on", () => {
    expect(DEFAULT_RATES["ecs:RunTask"]).to.equal(20);
    expect(DEFAULT_RATES["sfn:CreateStateMachine"]).to.equal(1);
    expect(DEFAULT_RATES["sfn:GetExecutionHistory"]).to.equal(20);
  });

  it("retries a throttled call with backoff until it succeeds", async () => {
    const limits = createRateLimits({ baseDelayMs: 1 });
    let calls = 0;
    const out = await limits.run("sfn:GetExecutionHistory", async () => {
      calls++;
      if (calls < 3) throw throttle();
      return "page";
    });
    expect(out).to.equal("page");
    expect(calls).to.equal(3);
  });

  it("gives up after its throttle retries and throws the throttling error itself", async () => {
    const limits = createRateLimits({ baseDelayMs: 1, throttleRetries: 2, rates: { "sfn:CreateStateMachine": 1000 } });
    let calls = 0;
    const err = await limits
      .run("sfn:CreateStateMachine", async () => {
        calls++;
        throw throttle();
      })
      .then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal("ThrottlingException");
    expect(calls).to.equal(3);
  });

  it("does not retry an error that is not a throttle", async () => {
    const limits = createRateLimits({ baseDelayMs: 1 });
    let calls = 0;
    const err = await limits
      .run("lambda:CreateFunction", async () => {
        calls++;
        throw Object.assign(new Error("bad role"), { name: "InvalidParameterValueException" });
      })
      .then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal("InvalidParameterValueException");
    expect(calls).to.equal(1);
  });

  it("treats an HTTP 429 without a known error name as a throttle", async () => {
    const limits = createRateLimits({ baseDelayMs: 1 });
    let calls = 0;
    await limits.run("ecs:RunTask", async () => {
      if (++calls === 1) throw Object.assign(new Error("slow down"), { name: "Unknown", $metadata: { httpStatusCode: 429 } });
    });
    expect(calls).to.equal(2);
  });

  it("spaces the calls of one operation at its budget across callers, without holding back other operations", async () => {
    const limits = createRateLimits({ rates: { "sfn:CreateStateMachine": 20, "sfn:DescribeStateMachine": 1000 } });
    const starts: number[] = [];
    const t0 = Date.now();
    // Two independent callers sharing the same limits (two deploys in one process).
    const callerA = Promise.all([1, 2].map(() => limits.run("sfn:CreateStateMachine", async () => void starts.push(Date.now() - t0))));
    const callerB = Promise.all([1, 2].map(() => limits.run("sfn:CreateStateMachine", async () => void starts.push(Date.now() - t0))));
    let otherAt = -1;
    const other = limits.run("sfn:DescribeStateMachine", async () => void (otherAt = Date.now() - t0));
    await Promise.all([callerA, callerB, other]);
    starts.sort((a, b) => a - b);
    // 20/s is one call per 50 ms: four calls cannot all start within less than three intervals. Bottleneck
    // and Date.now() both round to whole milliseconds, so an interval may read a few ms short (144 was seen);
    // unspaced calls would start within a millisecond or two of each other.
    expect(starts[3] - starts[0]).to.be.at.least(3 * 50 - 15);
    expect(otherAt).to.be.lessThan(starts[3]);
  });
});
