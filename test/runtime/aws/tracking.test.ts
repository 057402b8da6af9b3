import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistoryEvent } from "@aws-sdk/client-sfn";
import { resolvePlan } from "../../../lib/plan/resolve";
import { compileWorkflow, readMarkers } from "../../../lib/compile";
import { FileRecordStore } from "../../../lib/runtime/file-record-store";
import { refreshExecutionStatus } from "../../../lib/runtime/aws/tracking";
import { AwsClients } from "../../../lib/runtime/aws/clients";
import { createRateLimits } from "../../../lib/runtime/aws/rate-limit";
import { ExecutionRecord } from "../../../lib/model/execution-record";

const workflow = {
  name: "tracked",
  processors: [
    { id: "a", sourceUrl: "img-a:1" },
    { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] },
    { id: "c", sourceUrl: "img-c:1", dependsOn: ["a"] },
    { id: "d", sourceUrl: "img-d:1", dependsOn: ["b", "c"] },
  ],
};
const processors = [
  { sourceUrl: "img-a:1", retry: { maxAttempts: 2 } },
  { sourceUrl: "img-b:1" },
  { sourceUrl: "img-c:1" },
  { sourceUrl: "img-d:1" },
];
const ARN = "arn:aws:states:us-east-1:123456789012:execution:m:wi-1";
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

/** A fake Step Functions that serves a fixed history three events per page, and records what else is sent. */
function fakeClients(definition: string, events: HistoryEvent[], execution: { status: string; error?: string; cause?: string; output?: string }) {
  const sent: string[] = [];
  const sfn = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.push(name);
      switch (name) {
        case "DescribeExecution":
          return { ...execution, stopDate: execution.status === "RUNNING" ? undefined : t(59) };
        case "DescribeStateMachineForExecution":
          return { definition };
        case "GetExecutionHistory": {
          const start = Number(command.input.nextToken ?? 0);
          return { events: events.slice(start, start + 3), nextToken: start + 3 < events.length ? String(start + 3) : undefined };
        }
      }
      throw new Error(`unexpected ${name}`);
    },
  };
  const secrets = { send: async (command: { constructor: { name: string } }) => void sent.push(command.constructor.name.replace(/Command$/, "")) };
  const clients = { sfn, secrets, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as unknown as AwsClients;
  return { clients, sent };
}

describe("refreshExecutionStatus", () => {
  let dir: string;
  let store: FileRecordStore;
  let definition: string;
  let runState: Record<string, string>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-track-"));
    store = new FileRecordStore(dir);
    const plan = resolvePlan(workflow, { processors, mode: "secure" });
    const compiled = compileWorkflow(plan, { target: { computeNodeId: "n1" } });
    definition = JSON.stringify(compiled.definition);
    runState = {};
    for (const [name, marker] of readMarkers(compiled.definition)) if (marker.kind === "processor") runState[marker.processorIds[0]] = name;
    const record: ExecutionRecord = {
      executionId: "wi-1",
      workflowInstanceId: "wi-1",
      backend: "aws",
      computeNodeId: "n1",
      executionArn: ARN,
      stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:m",
      createdAt: t(0).toISOString(),
      status: "RUNNING",
      snapshot: { workflow: plan.workflow, processors: plan.registrations, invocation: plan.invocation, mode: plan.mode, resolved: plan.processors.map((p) => ({ id: p.id, uuid: p.uuid, image: p.image, computeType: p.computeType, cpu: p.cpu, memory: p.memory, hash: p.hash })), definitionHash: "h" },
      processors: { a: { status: "NOT_STARTED" }, b: { status: "NOT_STARTED" }, c: { status: "NOT_STARTED" }, d: { status: "NOT_STARTED" } },
    };
    await store.create(record);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function history(): HistoryEvent[] {
    const ecsCause = JSON.stringify({ Containers: [{ ExitCode: 3, Name: "processor" }], StoppedReason: "Essential container in task exited", Overrides: { ContainerOverrides: [{ Environment: [{ Name: "SESSION_TOKEN", Value: "sess-SECRET" }] }] } });
    return [
      { id: 1, type: "ExecutionStarted", timestamp: t(0) },
      { id: 2, previousEventId: 1, type: "TaskStateEntered", timestamp: t(1), stateEnteredEventDetails: { name: runState.a, input: "{}" } },
      { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: t(1) },
      { id: 4, previousEventId: 3, type: "TaskFailed", timestamp: t(2), taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: ecsCause } },
      { id: 5, previousEventId: 4, type: "TaskScheduled", timestamp: t(12) },
      { id: 6, previousEventId: 5, type: "TaskSucceeded", timestamp: t(13) },
      { id: 7, previousEventId: 6, type: "TaskStateExited", timestamp: t(13), stateExitedEventDetails: { name: runState.a } },
      { id: 8, previousEventId: 7, type: "TaskStateEntered", timestamp: t(14), stateEnteredEventDetails: { name: runState.b, input: "{}" } },
      { id: 9, previousEventId: 7, type: "TaskStateEntered", timestamp: t(14), stateEnteredEventDetails: { name: runState.c, input: "{}" } },
      { id: 10, previousEventId: 8, type: "TaskScheduled", timestamp: t(14) },
      { id: 11, previousEventId: 9, type: "TaskScheduled", timestamp: t(14) },
      { id: 12, previousEventId: 10, type: "TaskFailed", timestamp: t(20), taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: ecsCause } },
      { id: 13, previousEventId: 12, type: "FailStateEntered", timestamp: t(20), stateEnteredEventDetails: { name: "Fail b", input: "{}" } },
    ];
  }

  it("derives retries, failures with exit codes and successes from a paginated history", async () => {
    const { clients } = fakeClients(definition, history(), { status: "RUNNING" });
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients });
    expect(record.status).to.equal("RUNNING");
    expect(record.processors.a).to.deep.include({ status: "SUCCEEDED", attempts: 2, startedAt: t(1).toISOString(), finishedAt: t(13).toISOString() });
    expect(record.processors.b).to.deep.include({ status: "FAILED", exitCode: 3, finishedAt: t(20).toISOString() });
    expect(record.processors.b.cause).to.include("exit code 3").and.include("Essential container");
    expect(JSON.stringify(record)).to.not.include("sess-SECRET");
    expect(record.processors.c.status).to.equal("STARTED");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
  });

  it("keeps tokens out of a failure cause that Step Functions truncated, still reading the exit code", async () => {
    const full = JSON.stringify({ Containers: [{ ExitCode: 137, Name: "processor" }], StoppedReason: "OutOfMemoryError", Overrides: { ContainerOverrides: [{ Environment: [{ Name: "SESSION_TOKEN", Value: "sess-SECRET" }, { Name: "REFRESH_TOKEN", Value: "ref-SECRET" }] }] }, Padding: "x".repeat(200) });
    const truncated = full.slice(0, full.length - 150);
    const lambdaCause = JSON.stringify({ errorType: "Error", errorMessage: 'request {"sessionToken":"sess-SECRET"} rejected' });
    const events = history().slice(0, 3);
    events.push(
      { id: 4, previousEventId: 3, type: "TaskFailed", timestamp: t(2), taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: truncated } },
      { id: 5, previousEventId: 4, type: "FailStateEntered", timestamp: t(2), stateEnteredEventDetails: { name: "Fail a", input: "{}" } },
    );
    const { clients } = fakeClients(definition, events, { status: "RUNNING" });
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients });
    expect(record.processors.a).to.deep.include({ status: "FAILED", exitCode: 137 });
    expect(record.processors.a.cause).to.include("exit code 137").and.include("OutOfMemoryError");

    const lambdaEvents: HistoryEvent[] = [
      { id: 1, type: "ExecutionStarted", timestamp: t(0) },
      { id: 2, previousEventId: 1, type: "TaskStateEntered", timestamp: t(1), stateEnteredEventDetails: { name: runState.b, input: "{}" } },
      { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: t(1) },
      { id: 4, previousEventId: 3, type: "TaskFailed", timestamp: t(2), taskFailedEventDetails: { resourceType: "lambda", resource: "invoke", error: "Error", cause: lambdaCause } },
      { id: 5, previousEventId: 4, type: "FailStateEntered", timestamp: t(2), stateEnteredEventDetails: { name: "Fail b", input: "{}" } },
    ];
    const second = fakeClients(definition, lambdaEvents, { status: "RUNNING" });
    const after = await refreshExecutionStatus({ executionId: "wi-1", store, clients: second.clients });
    expect(after.processors.b.status).to.equal("FAILED");
    expect(after.processors.b.cause).to.include("rejected");
    expect(JSON.stringify(after)).to.not.include("SECRET");
  });

  it("records what a succeeded execution uploaded, from the summary its output carries", async () => {
    const outputs = { destination: "s3://results/wi-1/", files: 3, bytes: 42, skipped: 0, processorCount: 1, processors: [{ processorId: "d", destination: "s3://results/wi-1/d/", files: 3, bytes: 42 }], sample: ["s3://results/wi-1/d/x.txt"] };
    const output = JSON.stringify({ workflowInstanceId: "wi-1", computeNodeId: "n1", workdir: "/mnt/efs/n1/workdir/wi-1", outputs });
    const { clients } = fakeClients(definition, history().slice(0, 1), { status: "SUCCEEDED", output });
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients });
    expect(record.status).to.equal("SUCCEEDED");
    expect(record.outputs).to.deep.equal(outputs);
  });

  it("keeps a processor STARTED while its failure may still be retried", async () => {
    const { clients } = fakeClients(definition, history().slice(0, 4), { status: "RUNNING" });
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients });
    expect(record.processors.a.status).to.equal("STARTED");
  });

  it("cancels every processor still STARTED when the execution ends ABORTED or TIMED_OUT, and deletes the token secret", async () => {
    for (const status of ["ABORTED", "TIMED_OUT"]) {
      const { clients, sent } = fakeClients(definition, history().slice(0, 11), { status, error: "States.Timeout" });
      const id = `wi-${status}`;
      const base = (await store.get("wi-1"))!;
      await store.create({ ...base, executionId: id, workflowInstanceId: id });
      const record = await refreshExecutionStatus({ executionId: id, store, clients });
      expect(record.status).to.equal(status);
      expect(record.finishedAt).to.equal(t(59).toISOString());
      expect(record.processors.b).to.deep.include({ status: "CANCELED" });
      expect(record.processors.b.cause).to.include(status);
      expect(record.processors.c.status).to.equal("CANCELED");
      expect(record.processors.d.status).to.equal("NOT_STARTED");
      expect(sent).to.include("DeleteSecret");
      // Once settled, a refresh does not call AWS again.
      const before = sent.length;
      await refreshExecutionStatus({ executionId: id, store, clients });
      expect(sent.length).to.equal(before);
    }
  });

  it("reads a canceled execution that Step Functions reports ABORTED as CANCELED, and keeps it CANCELING while it still runs", async () => {
    const base = (await store.get("wi-1"))!;
    await store.create({ ...base, executionId: "wi-cancel", workflowInstanceId: "wi-cancel", status: "CANCELING" });
    const running = fakeClients(definition, history().slice(0, 11), { status: "RUNNING" });
    expect((await refreshExecutionStatus({ executionId: "wi-cancel", store, clients: running.clients })).status).to.equal("CANCELING");
    const stopped = fakeClients(definition, history().slice(0, 11), { status: "ABORTED", error: "Canceled", cause: "canceled by user" });
    const record = await refreshExecutionStatus({ executionId: "wi-cancel", store, clients: stopped.clients });
    expect(record.status).to.equal("CANCELED");
    expect(record.error).to.deep.equal({ error: "Canceled", cause: "canceled by user" });
    expect(Object.values(record.processors).map((p) => p.status)).to.not.include("STARTED");
    expect(record.processors.b.status).to.equal("CANCELED");
  });

  it("keeps an ABORTED execution nobody canceled ABORTED", async () => {
    const { clients } = fakeClients(definition, history().slice(0, 11), { status: "ABORTED" });
    expect((await refreshExecutionStatus({ executionId: "wi-1", store, clients })).status).to.equal("ABORTED");
  });

  it("keeps a start that never reached Step Functions PENDING through its grace period by the given clock, then fails it and revokes its tokens", async () => {
    const base = (await store.get("wi-1"))!;
    await store.create({ ...base, executionId: "wi-lost", workflowInstanceId: "wi-lost", executionArn: undefined, status: "PENDING" });
    const missing = Object.assign(new Error("Execution Does Not Exist"), { name: "ExecutionDoesNotExist", $metadata: { httpStatusCode: 400 } });
    const sent: string[] = [];
    const clients = {
      sfn: { send: async () => Promise.reject(missing) },
      secrets: { send: async (command: { constructor: { name: string }; input: { SecretId?: string } }) => void sent.push(`${command.constructor.name}:${command.input.SecretId}`) },
      limits: createRateLimits(),
      mutations: { calls: [] },
      region: "us-east-1",
    } as unknown as AwsClients;
    const at = (minutes: number) => () => new Date(t(0).getTime() + minutes * 60_000);
    const early = await refreshExecutionStatus({ executionId: "wi-lost", store, clients, now: at(9) });
    expect(early.status).to.equal("PENDING");
    expect(sent).to.deep.equal([]);
    const late = await refreshExecutionStatus({ executionId: "wi-lost", store, clients, now: at(11) });
    expect(late.status).to.equal("FAILED");
    expect(late.finishedAt).to.equal(at(11)().toISOString());
    expect(late.error?.error).to.equal("StartNotConfirmed");
    expect(sent).to.deep.equal(["DeleteSecretCommand:cn/n1/wi-lost"]);
  });
});
