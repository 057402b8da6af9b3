import { expect } from "chai";
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { buildCostReport, priceTableFor } from "../../lib/cost";
import { HistoryUsage, finalizeUsage } from "../../lib/integrations/finalize/lambda";
import { localCostUsage } from "../../lib/integrations/finalize/local";
import { LocalUsageMeter } from "../../lib/runtime/local/usage-meter";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import type { LocalRunEvent } from "../../lib/runtime/local/events";

/**
 * One execution, observed twice: as the local runner sees it (runner and machine events, a clock)
 * and as the finalize Lambda sees it (the execution's Step Functions history and record). Processor
 * "a" fails after 30 s and succeeds on its retry after 90 s, "b" (Lambda) runs 2.5 s, "c" never starts.
 */
const plan = resolvePlan(
  { name: "agree", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }, { id: "c", sourceUrl: "img-c:1", dependsOn: ["b"] }] },
  {
    processors: [
      { sourceUrl: "img-a:1", computeTypes: ["ecs"], cpu: 1, memory: 2048, ephemeralStorage: 30, retry: { maxAttempts: 1 } },
      { sourceUrl: "img-b:1", computeTypes: ["lambda"], memory: 1024 },
      { sourceUrl: "img-c:1", computeTypes: ["ecs"] },
    ],
    mode: "secure",
  },
);
const hash = (id: string) => plan.processors.find((p) => p.id === id)!.hash;
const T0 = Date.parse("2026-12-02T10:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const NOW = at(200);
const LOGS = { events: 120, bytes: 48_000 };

function localReport() {
  let clock = at(0);
  const meter = new LocalUsageMeter(() => clock);
  const event = (s: number, body: Record<string, unknown>) => meter.observe({ sequence: 0, executionId: "wi-1", timestamp: at(s).toISOString(), ...body } as LocalRunEvent);
  const timed = async (kind: "data-transfer" | "join" | "tokens", from: number, to: number) => {
    clock = at(from);
    await meter.invoke(kind, true, async () => {
      clock = at(to);
    });
  };
  return (async () => {
    // 14 states entered and a's retry; two token states (a's environment file, b's ResolveToken).
    const machineEvents = [
      ...Array.from({ length: 12 }, (_, i) => ({ type: "StateEntered", state: { name: `s${i}` } })),
      { type: "StateEntered", state: { name: "Token a" } },
      { type: "StateRetried", state: { name: "Run a" } },
      { type: "StateEntered", state: { name: "Token b" } },
    ];
    for (const e of machineEvents) meter.observeMachine(e, new Set(["Token a", "Token b"]));
    await timed("data-transfer", 1, 3);
    // a's environment file, written by the node's tokens function.
    await timed("tokens", 4, 4.2);
    event(5, { type: "processor-started", processorId: "a", attempt: 1 });
    event(35, { type: "processor-retrying", processorId: "a", attempt: 1, cause: "exit 1" });
    event(45, { type: "processor-started", processorId: "a", attempt: 2 });
    event(135, { type: "processor-finished", processorId: "a", status: "SUCCEEDED", durationMs: 90_000, done: 1, total: 3 });
    await timed("data-transfer", 136, 136.5);
    event(140, { type: "processor-started", processorId: "b", attempt: 1 });
    event(142.5, { type: "processor-finished", processorId: "b", status: "FAILED", durationMs: 2500, done: 2, total: 3 });
    await timed("data-transfer", 150, 151);
    await meter.settle();
    const usage = localCostUsage({
      plan,
      computeNodeId: "n1",
      workflowInstanceId: "wi-1",
      status: "FAILED",
      meter,
      recordedStatuses: new Map([["a", "SUCCEEDED"], ["b", "FAILED"], ["c", "NOT_STARTED"]]),
      logs: LOGS,
      startedAt: at(0),
      invokedAt: at(197),
      now: NOW,
      region: "us-east-1",
    });
    return buildCostReport(usage, priceTableFor("us-east-1"));
  })();
}

function awsReport() {
  const events: Omit<HistoryEvent, "id">[] = [];
  const add = (s: number, e: Omit<HistoryEvent, "id" | "timestamp">) => {
    events.push({ ...e, timestamp: at(s) } as HistoryEvent);
    return events.length;
  };
  const entered = (s: number, name: string, type = "PassStateEntered") => add(s, { type: type as never, previousEventId: events.length, stateEnteredEventDetails: { name } });
  const task = (from: number, to: number | undefined, resourceType: string, resource: string, parameters: object, ok = true, retryOf?: number) => {
    const scheduled = add(from, { type: "TaskScheduled", previousEventId: retryOf ?? entered(from, "task", "TaskStateEntered"), taskScheduledEventDetails: { resourceType, resource, region: "us-east-1", parameters: JSON.stringify(parameters) } });
    const started = add(from, { type: "TaskStarted", previousEventId: scheduled, taskStartedEventDetails: { resourceType, resource } });
    if (to === undefined) return started;
    return add(to, { type: ok ? "TaskSucceeded" : "TaskFailed", previousEventId: started, ...(ok ? { taskSucceededEventDetails: { resourceType, resource, output: "{}" } } : { taskFailedEventDetails: { resourceType, resource, error: "States.TaskFailed" } }) });
  };
  const runTask = (id: string) => ({ Overrides: { ContainerOverrides: [{ Name: "processor", Environment: [{ Name: "OUTPUT_DIR", Value: `/mnt/efs/n1/workdir/wi-1/${hash(id)}` }] }] } });
  add(0, { type: "ExecutionStarted" });
  // 14 states entered in all, as locally: 6 plain ones and the 8 Task states below.
  for (let i = 0; i < 6; i++) entered(0, `s${i}`);
  task(1, 3, "lambda", "invoke", { FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-data-transfer", Payload: { action: "download" } });
  task(4, 4.2, "lambda", "invoke", { FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-tokens", Payload: { action: "env-file", computeNodeId: "n1" } });
  const failed = task(5, 35, "ecs", "runTask.sync", runTask("a"), false);
  task(45, 135, "ecs", "runTask.sync", runTask("a"), true, failed);
  task(136, 136.5, "lambda", "invoke", { FunctionName: "cn-n1-data-transfer", Payload: { action: "merge" } });
  task(139, 139, "aws-sdk:secretsmanager", "getSecretValue", { SecretId: "cn/n1/wi-1" });
  task(140, 142.5, "lambda", "invoke", { FunctionName: "proc-lambda-n1-b", Payload: { outputDir: `/mnt/efs/n1/workdir/wi-1/${hash("b")}` } }, false);
  task(150, 151, "lambda", "invoke", { FunctionName: "cn-n1-data-transfer", Payload: { action: "cleanup" } });
  // Finalize reads the history while it runs: scheduled, started, no result yet.
  task(197, undefined, "lambda", "invoke", { FunctionName: "cn-n1-finalize", Payload: { action: "finalize" } });
  const history = new HistoryUsage(NOW);
  history.add(events.map((e, i) => ({ ...e, id: i + 1 })) as HistoryEvent[], true);
  const record = {
    startedAt: at(0).toISOString(),
    snapshot: executionSnapshot(plan, "h"),
    processors: { a: { status: "SUCCEEDED" }, b: { status: "FAILED" }, c: { status: "NOT_STARTED" } },
  };
  return buildCostReport(finalizeUsage({ computeNodeId: "n1", workflowInstanceId: "wi-1", status: "FAILED", region: "us-east-1", record, history, logs: LOGS, end: NOW }), priceTableFor("us-east-1"));
}

describe("the local runner's and the finalize Lambda's cost reports", () => {
  it("agree line for line, processor for processor, on the same runs and durations", async () => {
    const [local, aws] = [await localReport(), awsReport()];
    const comparable = (r: typeof local) => ({ lines: r.lines, processors: r.processors, missing: r.missing, totalUsd: r.totalUsd, region: r.region, pricingVersion: r.pricingVersion, mode: r.mode, status: r.status, generatedAt: r.generatedAt });
    expect(comparable(local)).to.deep.equal(comparable(aws));
    expect([local.source, local.nominal, aws.source, aws.nominal]).to.deep.equal(["local", true, "aws", false]);
  });

  it("count what a demanding reader would count by hand", async () => {
    const report = await localReport();
    const line = (item: string) => report.lines.find((l) => l.item === item);
    // 14 states entered + 1 retry + the Fail state still to come after Finalize.
    expect(line("Step Functions state transitions")!.quantity).to.equal(16);
    expect(report.processors.find((p) => p.processorId === "a")).to.include({ attempts: 2, retries: 1, durationSeconds: 120, billedSeconds: 150 });
    expect(line("data-transfer function requests")!.quantity).to.equal(3);
    expect(line("data-transfer function duration")!.quantity).to.equal(3.5);
    // Finalize's own invocation, 3 s so far.
    expect(line("finalize function duration")!.quantity).to.equal(3);
    // CreateSecret, the tokens function's read for a, b's ResolveToken, DeleteSecret.
    expect(line("Secrets Manager API calls (token secret)")!.quantity).to.equal(4);
    expect(line("tokens function requests")!.quantity).to.equal(1);
    expect(line("tokens function duration")!.quantity).to.equal(0.05);
    expect(report.missing.map((m) => m.item)).to.deep.equal(["NAT gateway data processing", "EFS throughput and storage"]);
  });
});
