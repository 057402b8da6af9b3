import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, DescribeStateMachineForExecutionCommand, GetExecutionHistoryCommand, HistoryEvent } from "@aws-sdk/client-sfn";
import { NotFoundError } from "../../lib/errors";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { FileRecordStore } from "../../lib/runtime/file-record-store";
import { AwsClients } from "../../lib/runtime/aws/clients";
import { readProcessorLogs } from "../../lib/runtime/aws";
import { useMoto } from "./moto";
import { motoNode } from "./fixtures";

const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:cn-node-logs-wf:wi-logs";
const plan = resolvePlan(
  { name: "wf", processors: [{ id: "align", sourceUrl: "img-e:1" }, { id: "score", sourceUrl: "img-l:1", dependsOn: ["align"] }] },
  { processors: [{ sourceUrl: "img-e:1", computeTypes: ["ecs"] }, { sourceUrl: "img-l:1", computeTypes: ["lambda"] }], mode: "secure" },
);
const hashOf = (id: string) => plan.processors.find((p) => p.id === id)!.hash;

/** A history with align's ECS task submitted and score's Lambda invocation done (moto runs neither kind with its logs). */
function history(): HistoryEvent[] {
  const events: Omit<HistoryEvent, "id" | "previousEventId" | "timestamp">[] = [
    { type: "ExecutionStarted", executionStartedEventDetails: { input: "{}" } },
    { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "ecs", resource: "runTask.sync", region: "us-east-1", parameters: JSON.stringify({ Overrides: { ContainerOverrides: [{ Name: "processor", Environment: [{ Name: "OUTPUT_DIR", Value: `/mnt/efs/w/${hashOf("align")}` }] }] } }) } },
    { type: "TaskStarted", taskStartedEventDetails: { resourceType: "ecs", resource: "runTask.sync" } },
    { type: "TaskSubmitted", taskSubmittedEventDetails: { resourceType: "ecs", resource: "runTask.sync", output: JSON.stringify({ Tasks: [{ TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/c/task-1" }] }) } },
    { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "lambda", resource: "invoke", region: "us-east-1", parameters: JSON.stringify({ Payload: { outputDir: `/mnt/efs/w/${hashOf("score")}` } }) } },
    { type: "TaskStarted", taskStartedEventDetails: { resourceType: "lambda", resource: "invoke" } },
    { type: "TaskSucceeded", taskSucceededEventDetails: { resourceType: "lambda", resource: "invoke", output: JSON.stringify({ Payload: {}, SdkResponseMetadata: { RequestId: "req-score-1" } }) } },
  ];
  return events.map((e, i) => ({ ...e, id: i + 1, previousEventId: i, timestamp: new Date(Date.now() - 60_000 + i) }) as HistoryEvent);
}

/** moto for logs and S3; Step Functions answers with the history above and a RUNNING execution. */
function withHistory(clients: AwsClients, onDescribe?: () => Promise<void>): AwsClients {
  const sfn = {
    send: (async (command: unknown) => {
      if (command instanceof GetExecutionHistoryCommand) return { events: history() };
      if (command instanceof DescribeExecutionCommand) {
        await onDescribe?.();
        return { status: "RUNNING", executionArn: EXECUTION };
      }
      if (command instanceof DescribeStateMachineForExecutionCommand) return { definition: JSON.stringify({ StartAt: "x", States: {} }) };
      throw new Error(`unexpected ${(command as object).constructor.name}`);
    }) as AwsClients["sfn"]["send"],
  };
  return { ...clients, sfn };
}

describe("readProcessorLogs (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();
  let dir: string;
  let store: FileRecordStore;
  let node: NodeOutputs;
  const put = async (stream: string, messages: string[], t0 = Date.now() - 30_000) => {
    await moto.clients.logs!.send(new CreateLogStreamCommand({ logGroupName: node.logGroupName, logStreamName: stream })).catch(() => undefined);
    await moto.clients.logs!.send(new PutLogEventsCommand({ logGroupName: node.logGroupName, logStreamName: stream, logEvents: messages.map((message, i) => ({ timestamp: t0 + i, message })) }));
  };
  const collect = async (iterable: AsyncIterable<string>) => {
    const out: string[] = [];
    for await (const line of iterable) out.push(line);
    return out;
  };

  beforeEach(async () => {
    node = await motoNode(moto.endpoint, "node-logs");
    dir = await mkdtemp(join(tmpdir(), "cn-logs-"));
    store = new FileRecordStore(dir);
    const record: ExecutionRecord = {
      executionId: "wi-logs",
      workflowInstanceId: "wi-logs",
      backend: "aws",
      computeNodeId: "node-logs",
      executionArn: EXECUTION,
      createdAt: new Date().toISOString(),
      startedAt: new Date(Date.now() - 60_000).toISOString(),
      snapshot: executionSnapshot(plan, "h"),
      status: "RUNNING",
      processors: { align: { status: "STARTED" }, score: { status: "SUCCEEDED" } },
    };
    await store.create(record);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("reads an ECS processor's lines from its task's stream in the node's log group", async () => {
    await put("processor/processor/task-1", ["aligning", "aligned 10 reads"]);
    await put("processor/processor/task-other", ["someone else"]);
    const lines = await collect(readProcessorLogs({ executionId: "wi-logs", processorId: "align", store, clients: withHistory(moto.clients), node }));
    expect(lines.map((l) => l.replace(/^\S+ /, ""))).to.deep.equal(["aligning", "aligned 10 reads"]);
    expect(lines[0]).to.match(/^\d{4}-\d\d-\d\dT/);
  });

  it("reads a finished Lambda invocation's lines by its request id", async () => {
    await put("2026/01/01/[$LATEST]env1", ["START RequestId: req-score-1 Version: $LATEST", "scoring", "END RequestId: req-score-1"]);
    await put("2026/01/01/[$LATEST]env2", ["START RequestId: req-other Version: $LATEST", "not ours"], Date.now() - 20_000);
    const lines = await collect(readProcessorLogs({ executionId: "wi-logs", processorId: "score", store, clients: withHistory(moto.clients), node }));
    expect(lines.map((l) => l.replace(/^\S+ /, ""))).to.deep.equal(["START RequestId: req-score-1 Version: $LATEST", "scoring", "END RequestId: req-score-1"]);
  });

  it("follows a running processor until it finishes, with each line once", async () => {
    await put("processor/processor/task-1", ["line 1"]);
    // The first poll's refresh is when the task writes again and ends.
    let polls = 0;
    const clients = withHistory(moto.clients, async () => {
      if (++polls > 1) return;
      await put("processor/processor/task-1", ["line 2"], Date.now() - 10_000);
      await store.updateProcessor("wi-logs", "align", { status: "SUCCEEDED" });
    });
    const iterator = readProcessorLogs({ executionId: "wi-logs", processorId: "align", store, clients, node, follow: true, pollMs: 5 })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).to.match(/ line 1$/);
    const rest: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
    expect(rest.map((l) => l.replace(/^\S+ /, ""))).to.deep.equal(["line 2"]);
    expect(polls).to.be.greaterThan(0);
  });

  it("stops following when its signal aborts", async () => {
    const controller = new AbortController();
    const reading = collect(readProcessorLogs({ executionId: "wi-logs", processorId: "align", store, clients: withHistory(moto.clients), node, follow: true, pollMs: 5, signal: controller.signal }));
    controller.abort();
    expect(await reading).to.deep.equal([]);
  });

  it("reads from the logs archive once finalize has pointed the record at it", async () => {
    const s3 = moto.clients.s3!;
    await s3.send(new CreateBucketCommand({ Bucket: "cn-node-logs-archive" }));
    await s3.send(new PutObjectCommand({ Bucket: "cn-node-logs-archive", Key: "executions/node-logs/wi-logs/processors/align/task-1.log", Body: "2026-01-01T00:00:00.000Z archived line\n" }));
    await store.updateExecution("wi-logs", { status: "SUCCEEDED", artifacts: { logArchive: "s3://cn-node-logs-archive/executions/node-logs/wi-logs/" } });
    // Nothing in CloudWatch: the lines can only come from S3.
    const lines = await collect(readProcessorLogs({ executionId: "wi-logs", processorId: "align", store, clients: moto.clients, node }));
    expect(lines).to.deep.equal(["2026-01-01T00:00:00.000Z archived line"]);
  });

  it("names the processors an unknown processor id could have been", async () => {
    const err = await collect(readProcessorLogs({ executionId: "wi-logs", processorId: "algin", store, clients: moto.clients, node })).then(() => undefined, (e) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.include('"algin"').and.include("align, score");
  });
});
