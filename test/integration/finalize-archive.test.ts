import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { GetExecutionHistoryCommand, HistoryEvent, ListExecutionsCommand } from "@aws-sdk/client-sfn";
import { createFinalizeHandler } from "../../lib/integrations/finalize/lambda";
import { executionRuns, hashOf } from "../../lib/runtime/aws/history";
import { useMoto } from "./moto";
import { sdkConfig } from "./fixtures";

const SESSION = "S3SSION-VALUE-never-archived";
const REFRESH = "R3FRESH-VALUE-never-archived";
const ACCOUNT = "123456789012";
const MAIN = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cn-node-w:wi-9`;
const CHILD = `arn:aws:states:us-east-1:${ACCOUNT}:execution:cn-node-w-c1:wi-9-c1`;
const MAP_RUN = `arn:aws:states:us-east-1:${ACCOUNT}:mapRun:cn-node-w/Twins:run-1`;
const ITER = [1, 2].map((i) => `arn:aws:states:us-east-1:${ACCOUNT}:execution:cn-node-w/Twins:iter-${i}`);
const task = (id: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:task/cn-node-cluster/${id}`;
const WORKDIR = "/mnt/efs/node/work/wi-9";

// What runTask.sync really carries: the container overrides, tokens included.
const overrides = (hash: string) => ({
  ContainerOverrides: [
    {
      Name: "processor",
      Environment: [
        { Name: "INPUT_DIR", Value: `${WORKDIR}/in` },
        { Name: "OUTPUT_DIR", Value: `${WORKDIR}/${hash}` },
        { Name: "WORKFLOW_INSTANCE_ID", Value: "wi-9" },
        { Name: "SESSION_TOKEN", Value: SESSION },
        { Name: "REFRESH_TOKEN", Value: REFRESH },
      ],
    },
  ],
});
const ecsParameters = (hash: string) => JSON.stringify({ Cluster: "cn-node-cluster", TaskDefinition: "cn-node-p", LaunchType: "FARGATE", Overrides: overrides(hash) });
const ecsTask = (id: string, hash: string, extra: object = {}) => ({ Attachments: [], Containers: [{ Name: "processor", TaskArn: task(id), ExitCode: 0 }], Overrides: overrides(hash), TaskArn: task(id), ...extra });

/** Numbers events and chains each to the one before it, like a linear history. */
function history(t0: number, events: Omit<HistoryEvent, "id" | "previousEventId" | "timestamp">[]): HistoryEvent[] {
  return events.map((e, i) => ({ ...e, id: i + 1, previousEventId: i, timestamp: new Date(t0 + i * 100) }) as HistoryEvent);
}
const ecsRun = (id: string, hash: string, outcome: "ok" | "failed" | "tasks"): Omit<HistoryEvent, "id" | "previousEventId" | "timestamp">[] => [
  { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "ecs", resource: "runTask.sync", region: "us-east-1", parameters: ecsParameters(hash) } },
  { type: "TaskStarted", taskStartedEventDetails: { resourceType: "ecs", resource: "runTask.sync" } },
  outcome === "failed"
    ? // A long cause arrives truncated: no longer JSON, still holding the overrides.
      { type: "TaskFailed", taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: JSON.stringify(ecsTask(id, hash, { StoppedReason: "Essential container in task exited" })).slice(0, 600) } }
    : { type: "TaskSucceeded", taskSucceededEventDetails: { resourceType: "ecs", resource: "runTask.sync", output: JSON.stringify(outcome === "tasks" ? { Tasks: [ecsTask(id, hash)] } : ecsTask(id, hash)) } },
];

function fixtures(t0: number): Map<string, HistoryEvent[]> {
  const main = history(t0, [
    { type: "ExecutionStarted", executionStartedEventDetails: { input: "{}" } },
    ...ecsRun("task-a", "ha", "ok"),
    // A processor Lambda: its payload names the output dir (and the tokens).
    {
      type: "TaskScheduled",
      taskScheduledEventDetails: { resourceType: "lambda", resource: "invoke", region: "us-east-1", parameters: JSON.stringify({ FunctionName: "proc-lambda-node-l", Payload: { inputDir: `${WORKDIR}/in`, outputDir: `${WORKDIR}/hl`, workflowInstanceId: "wi-9", sessionToken: SESSION, refreshToken: REFRESH } }) },
    },
    { type: "TaskStarted", taskStartedEventDetails: { resourceType: "lambda", resource: "invoke" } },
    { type: "TaskSucceeded", taskSucceededEventDetails: { resourceType: "lambda", resource: "invoke", output: JSON.stringify({ ExecutedVersion: "$LATEST", Payload: { ok: true }, SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: "req-l-1" }, StatusCode: 200 }) } },
    // The data-transfer Lambda is no processor: not archived.
    { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "lambda", resource: "invoke", region: "us-east-1", parameters: JSON.stringify({ FunctionName: "cn-node-data-transfer", Payload: { action: "cleanup", workdir: WORKDIR } }) } },
    { type: "TaskStarted", taskStartedEventDetails: { resourceType: "lambda", resource: "invoke" } },
    { type: "TaskSucceeded", taskSucceededEventDetails: { resourceType: "lambda", resource: "invoke", output: JSON.stringify({ Payload: {}, SdkResponseMetadata: { RequestId: "req-transfer" } }) } },
    { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "states", resource: "startExecution.sync:2", region: "us-east-1", parameters: "{}" } },
    { type: "TaskStarted", taskStartedEventDetails: { resourceType: "states", resource: "startExecution.sync:2" } },
    { type: "TaskSubmitted", taskSubmittedEventDetails: { resourceType: "states", resource: "startExecution.sync:2", output: JSON.stringify({ ExecutionArn: CHILD, StartDate: t0 }) } },
    { type: "TaskSucceeded", taskSucceededEventDetails: { resourceType: "states", resource: "startExecution.sync:2", output: JSON.stringify({ ExecutionArn: CHILD, Output: { ok: true } }) } },
    { type: "MapRunStarted", mapRunStartedEventDetails: { mapRunArn: MAP_RUN } },
  ]);
  return new Map([
    [MAIN, main],
    [CHILD, history(t0, [{ type: "ExecutionStarted" }, ...ecsRun("task-b", "hb", "failed")])],
    [ITER[0], history(t0, [{ type: "ExecutionStarted" }, ...ecsRun("task-c1", "hc1", "ok")])],
    [ITER[1], history(t0, [{ type: "ExecutionStarted" }, ...ecsRun("task-c2", "hc2", "tasks")])],
  ]);
}

/** A Step Functions client that serves fabricated histories two events a page, and a map run's iterations one a page. */
function fakeSfn(histories: Map<string, HistoryEvent[]>, calls: string[] = []) {
  return {
    async send(command: unknown): Promise<unknown> {
      if (command instanceof GetExecutionHistoryCommand) {
        const { executionArn, nextToken } = command.input;
        calls.push(`history ${executionArn} ${nextToken ?? ""}`);
        expect(command.input.includeExecutionData).to.equal(true);
        const events = histories.get(executionArn!);
        if (!events) throw Object.assign(new Error("no such execution"), { name: "ExecutionDoesNotExist" });
        const from = Number(nextToken ?? 0);
        return { events: events.slice(from, from + 2), nextToken: from + 2 < events.length ? String(from + 2) : undefined };
      }
      if (command instanceof ListExecutionsCommand) {
        expect(command.input.mapRunArn).to.equal(MAP_RUN);
        calls.push(`list ${command.input.nextToken ?? ""}`);
        const from = Number(command.input.nextToken ?? 0);
        return { executions: [{ executionArn: ITER[from] }], nextToken: from + 1 < ITER.length ? String(from + 1) : undefined };
      }
      throw new Error(`unexpected ${(command as object).constructor.name}`);
    },
  };
}

describe("finalize archives logs per processor from the execution's history", function () {
  this.timeout(30000);
  const moto = useMoto();
  let s3: S3Client;
  let logs: CloudWatchLogsClient;
  let t0: number;
  beforeEach(async () => {
    s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    logs = new CloudWatchLogsClient(sdkConfig(moto.endpoint));
    t0 = Date.now() - 60_000;
    await s3.send(new CreateBucketCommand({ Bucket: "archive" }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/cn/node" }));
    const stream = async (name: string, messages: string[]) => {
      await logs.send(new CreateLogStreamCommand({ logGroupName: "/cn/node", logStreamName: name }));
      await logs.send(new PutLogEventsCommand({ logGroupName: "/cn/node", logStreamName: name, logEvents: messages.map((message, i) => ({ timestamp: t0 + 1000 + i * 10, message })) }));
    };
    await stream("processor/processor/task-a", ["a starts", "a done"]);
    await stream("processor/processor/task-b", ["b fails"]);
    await stream("processor/processor/task-c1", ["twin 1"]);
    await stream("processor/processor/task-c2", ["twin 2"]);
    // Another execution on the same node, at the same time.
    await stream("processor/processor/task-other", ["OTHER-EXECUTION ecs line"]);
    await stream("2026/01/01/[$LATEST]env1", [
      "START RequestId: req-other Version: $LATEST",
      "req-other\tINFO\tOTHER-EXECUTION lambda line",
      "END RequestId: req-other",
      "START RequestId: req-l-1 Version: $LATEST",
      "2026-01-01T00:00:00.000Z\treq-l-1\tINFO\tl works",
      "a print without the request id",
      "END RequestId: req-l-1",
      "REPORT RequestId: req-l-1\tDuration: 12 ms",
      "START RequestId: req-next Version: $LATEST",
      "OTHER-EXECUTION next invocation",
    ]);
  });

  const record = () => ({
    startedAt: new Date(t0).toISOString(),
    snapshot: {
      resolved: [
        { id: "a", hash: "ha", computeType: "ecs", cpu: 1, memory: 2048 },
        { id: "b", hash: "hb", computeType: "ecs", cpu: 1, memory: 2048 },
        { id: "l", hash: "hl", computeType: "lambda", cpu: 1, memory: 1024 },
        { id: "m1", hash: "hc1", computeType: "ecs", cpu: 1, memory: 2048 },
        { id: "m2", hash: "hc2", computeType: "ecs", cpu: 1, memory: 2048 },
      ],
    },
    processors: {},
  });
  const dynamodb = () => ({ send: async () => ({ Item: { record: { B: gzipSync(JSON.stringify(record())) } } }) });
  const secrets = { send: async () => ({}) };
  const env = { LOG_ARCHIVE_BUCKET: "archive", LOG_GROUP_NAME: "/cn/node", EXECUTION_TABLE: "execs" };
  const objects = async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "archive" }));
    const out: Record<string, string> = {};
    for (const o of listed.Contents ?? []) out[o.Key!] = await (await s3.send(new GetObjectCommand({ Bucket: "archive", Key: o.Key! }))).Body!.transformToString();
    return out;
  };

  it("writes one object per ECS task and Lambda invocation under its processor, children and map runs included", async () => {
    const calls: string[] = [];
    const finalize = createFinalizeHandler({ s3, logs, sfn: fakeSfn(fixtures(t0), calls), dynamodb: dynamodb(), secrets, env, now: () => new Date(t0 + 60_000) });
    const out = await finalize({ action: "finalize", computeNodeId: "node", workflowInstanceId: "wi-9", status: "FAILED", error: { Error: "ProcessorFailed" }, executionArn: MAIN });
    const prefix = "executions/node/wi-9";
    const keys = ["processors/a/task-a.log", "processors/l/req-l-1.log", "processors/b/task-b.log", "processors/m1/task-c1.log", "processors/m2/task-c2.log"];
    expect(out).to.deep.equal({ archive: "processors", archived: keys.map((k) => `s3://archive/${prefix}/${k}`), costReport: `s3://archive/${prefix}/cost-report.json`, logEvents: 10, tokenSecret: "deleted" });
    // Every page of every history, and of the map run's iterations.
    expect(calls.filter((c) => c.startsWith("list"))).to.deep.equal(["list ", "list 1"]);
    expect(calls.filter((c) => c.startsWith(`history ${MAIN}`)).length).to.be.greaterThan(5);

    const written = await objects();
    expect(Object.keys(written).sort()).to.deep.equal([...keys.map((k) => `${prefix}/${k}`), `${prefix}/cost-report.json`].sort());
    const at = (i: number) => new Date(t0 + 1000 + i * 10).toISOString();
    expect(written[`${prefix}/processors/a/task-a.log`]).to.equal(`${at(0)} a starts\n${at(1)} a done\n`);
    expect(written[`${prefix}/processors/b/task-b.log`]).to.equal(`${at(0)} b fails\n`);
    expect(written[`${prefix}/processors/m2/task-c2.log`]).to.equal(`${at(0)} twin 2\n`);
    // The invocation's own lines, from START to REPORT, including those without its request id.
    expect(written[`${prefix}/processors/l/req-l-1.log`].trim().split("\n").map((l) => l.slice(25))).to.deep.equal([
      "START RequestId: req-l-1 Version: $LATEST",
      "2026-01-01T00:00:00.000Z\treq-l-1\tINFO\tl works",
      "a print without the request id",
      "END RequestId: req-l-1",
      "REPORT RequestId: req-l-1\tDuration: 12 ms",
    ]);
    const everything = JSON.stringify(written) + JSON.stringify(out);
    for (const secret of [SESSION, REFRESH, "OTHER-EXECUTION", "req-transfer"]) expect(everything).to.not.contain(secret);
  });

  it("prices every run the histories hold, in the node's region, with the volume of the logs it archived", async () => {
    const finalize = createFinalizeHandler({ s3, logs, sfn: fakeSfn(fixtures(t0)), dynamodb: dynamodb(), secrets, env: { ...env, AWS_REGION: "eu-west-1" }, now: () => new Date(t0 + 60_000) });
    await finalize({ action: "finalize", computeNodeId: "node", workflowInstanceId: "wi-9", status: "FAILED", executionArn: MAIN });
    const report = JSON.parse((await objects())["executions/node/wi-9/cost-report.json"]);
    expect(report).to.include({ source: "aws", nominal: false, region: "eu-west-1", pricingVersion: "2026-12-02", status: "FAILED" });
    const processors = Object.fromEntries(report.processors.map((p: { processorId: string }) => [p.processorId, p]));
    // Each task ran 100 ms in the fabricated histories: Fargate bills the minute, Lambda the 100 ms.
    for (const id of ["a", "m1", "m2"]) expect(processors[id], id).to.include({ status: "SUCCEEDED", attempts: 1, billedSeconds: 60 });
    expect(processors.b).to.include({ status: "FAILED", attempts: 1, billedSeconds: 60 });
    expect(processors.l).to.include({ computeType: "lambda", status: "SUCCEEDED", billedSeconds: 0.1 });
    const line = (item: string) => report.lines.find((l: { item: string }) => l.item === item);
    expect(line("CloudWatch Logs ingestion").quantity).to.be.greaterThan(0);
    expect(line("data-transfer function requests").quantity).to.equal(1);
    expect(line("Step Functions state transitions").quantity).to.be.greaterThan(0);
    expect(report.totalUsd).to.be.closeTo(report.lines.reduce((s: number, l: { usd: number }) => s + l.usd, 0), 1e-12);
  });

  it("falls back to the log group's time window in logs.jsonl when the history cannot be read", async () => {
    const denied = { send: async () => Promise.reject(Object.assign(new Error("not authorized"), { name: "AccessDeniedException" })) };
    const finalize = createFinalizeHandler({ s3, logs, sfn: denied, dynamodb: dynamodb(), secrets, env, now: () => new Date(t0 + 60_000) });
    const out = await finalize({ action: "finalize", computeNodeId: "node", workflowInstanceId: "wi-9", status: "SUCCEEDED", executionArn: MAIN });
    expect(out).to.deep.include({ archive: "log-group", logs: "s3://archive/executions/node/wi-9/logs.jsonl", historyError: "AccessDeniedException", logEvents: 16 });
    const written = await objects();
    expect(Object.keys(written).sort()).to.deep.equal(["executions/node/wi-9/cost-report.json", "executions/node/wi-9/logs.jsonl"]);
    expect(written["executions/node/wi-9/logs.jsonl"]).to.contain("OTHER-EXECUTION");
  });

  it("refuses an executionArn that is no execution ARN", async () => {
    const finalize = createFinalizeHandler({ s3, logs, sfn: fakeSfn(new Map()), secrets, env });
    const err = await finalize({ action: "finalize", computeNodeId: "node", workflowInstanceId: "wi-9", status: "SUCCEEDED", executionArn: "not-an-arn" }).catch((e: Error) => e);
    expect(err).to.have.property("name", "FinalizeInputError");
  });
});

describe("executionRuns", () => {
  it("stops at maxExecutions and says so", async () => {
    const out = await executionRuns(fakeSfn(fixtures(Date.now())), MAIN, { maxExecutions: 2 });
    expect(out).to.include({ executions: 2, truncated: true });
    expect(out.runs.map((r) => (r.kind === "ecs" ? r.taskId : r.requestId))).to.deep.equal(["task-a", "req-l-1", "task-b"]);
  });

  it("stops below maxDepth and says so", async () => {
    const out = await executionRuns(fakeSfn(fixtures(Date.now())), MAIN, { maxDepth: 0 });
    expect(out).to.include({ executions: 1, truncated: true });
  });

  it("reads the processor hash from OUTPUT_DIR in either key order, escaped or not, and from a Lambda outputDir", () => {
    expect(hashOf(JSON.stringify({ Environment: [{ Name: "OUTPUT_DIR", Value: "/w/h1" }] }))).to.equal("h1");
    expect(hashOf(JSON.stringify({ Environment: [{ Value: "/w/h2/", Name: "OUTPUT_DIR" }] }))).to.equal("h2");
    expect(hashOf(JSON.stringify(JSON.stringify({ Environment: [{ Name: "OUTPUT_DIR", Value: "/w/h3" }] })))).to.equal("h3");
    expect(hashOf(JSON.stringify({ Payload: { outputDir: "/w/h4" } }))).to.equal("h4");
    expect(hashOf(JSON.stringify({ Payload: { action: "cleanup" } }))).to.equal(undefined);
  });
});
