import { expect } from "chai";
import { CreateTableCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateSecretCommand, DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { CreateFunctionCommand, InvokeCommand } from "@aws-sdk/client-lambda";
import { CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { createFinalizeHandler, createStopHandler } from "../../lib/integrations/finalize/lambda";
import type { StopResult } from "../../lib/integrations/finalize/contract";
import { envFileKey, tokenSecretName } from "../../lib/integrations/tokens/contract";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { stateMachineName } from "../../lib/model/names";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { useMoto } from "./moto";
import { motoNode, sdkConfig } from "./fixtures";

const NODE = "n1";
const SESSION = "S3SSION-VALUE-never-archived";
const TABLE = "cn-n1-executions";
const ARCHIVE = "cn-n1-archive";
const ENV_BUCKET = "cn-n1-env";
const LOG_GROUP = "/cn/n1";
const ENV = { COMPUTE_NODE_ID: NODE, DATA_TRANSFER_FUNCTION: "cn-n1-data-transfer", EXECUTION_TABLE: TABLE, LOG_ARCHIVE_BUCKET: ARCHIVE, LOG_GROUP_NAME: LOG_GROUP, ENV_FILE_BUCKET: ENV_BUCKET, AWS_REGION: "us-east-1" };
const WORKDIR = "/mnt/efs/n1/workdir";
// a runs (STARTED when the run is stopped), b is done, c never started.
const SNAPSHOT = executionSnapshot(resolvePlan({ name: "wf", processors: ["a", "b", "c"].map((id) => ({ id, sourceUrl: `img-${id}:1` })) }), "h");
const HASH_A = SNAPSHOT.resolved.find((p) => p.id === "a")!.hash;

/** A stopped run's history: processor `a` was submitted as ECS task task-a and never ended. */
function stoppedHistory(t0: number, workflowInstanceId: string): HistoryEvent[] {
  const params = JSON.stringify({ Cluster: "cn-n1", Overrides: { ContainerOverrides: [{ Name: "processor", Environment: [{ Name: "OUTPUT_DIR", Value: `${WORKDIR}/${workflowInstanceId}/${HASH_A}` }, { Name: "SESSION_TOKEN", Value: SESSION }] }] } });
  const events: Omit<HistoryEvent, "id" | "previousEventId" | "timestamp">[] = [
    { type: "ExecutionStarted", executionStartedEventDetails: { input: "{}" } },
    { type: "TaskStateEntered", stateEnteredEventDetails: { name: "a" } },
    { type: "TaskScheduled", taskScheduledEventDetails: { resourceType: "ecs", resource: "runTask.sync", region: "us-east-1", parameters: params } },
    { type: "TaskStarted", taskStartedEventDetails: { resourceType: "ecs", resource: "runTask.sync" } },
    { type: "TaskSubmitted", taskSubmittedEventDetails: { resourceType: "ecs", resource: "runTask.sync", output: JSON.stringify({ TaskArn: "arn:aws:ecs:us-east-1:123456789012:task/cn-n1/task-a" }) } },
    { type: "ExecutionAborted", executionAbortedEventDetails: {} },
  ];
  return events.map((e, i) => ({ ...e, id: i + 1, previousEventId: i, timestamp: new Date(t0 + i * 100) }) as HistoryEvent);
}

describe("finalize after a stop (the node's EventBridge stop rule, against moto)", function () {
  this.timeout(60000);
  const moto = useMoto();
  let s3: S3Client;
  let logs: CloudWatchLogsClient;
  let store: DynamoRecordStore;
  let t0: number;
  let calls: string[];
  let cleanups: unknown[];

  beforeEach(async () => {
    const clients = moto.clients;
    s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    logs = new CloudWatchLogsClient(sdkConfig(moto.endpoint));
    t0 = Date.now() - 60_000;
    calls = [];
    cleanups = [];
    // moto echoes a function's payload (no Docker): enough to see the data-transfer cleanup was asked for.
    const node = await motoNode(moto.endpoint, NODE);
    await clients.lambda.send(new CreateFunctionCommand({ FunctionName: "cn-n1-data-transfer", PackageType: "Image", Code: { ImageUri: "node-fn:1" }, Role: node.lambdaExecutionRoleArn }));
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition(TABLE)));
    store = new DynamoRecordStore({ clients, tableName: TABLE });
    for (const Bucket of [ARCHIVE, ENV_BUCKET]) await s3.send(new CreateBucketCommand({ Bucket }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: "processor/processor/task-a" }));
    await logs.send(new PutLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: "processor/processor/task-a", logEvents: [{ timestamp: t0 + 1000, message: "a started" }] }));
  });

  /** What a running execution registered: its record, its token secret, its environment file, and the Step Functions execution itself. */
  async function runningExecution(workflowInstanceId: string, status: ExecutionRecord["status"] = "RUNNING") {
    const clients = moto.clients;
    const machine = await clients.sfn.send(
      new CreateStateMachineCommand({
        name: stateMachineName(NODE, "wf"),
        roleArn: "arn:aws:iam::123456789012:role/cn-n1-state-machine",
        definition: JSON.stringify({ StartAt: "Done", States: { Done: { Type: "Succeed" } } }),
      }),
    ).catch(async () => ({ stateMachineArn: `arn:aws:states:us-east-1:123456789012:stateMachine:${stateMachineName(NODE, "wf")}` }));
    const input = { workflowInstanceId, computeNodeId: NODE, tokenSecretId: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${tokenSecretName(NODE, workflowInstanceId)}`, packageIds: [] };
    const started = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: workflowInstanceId, input: JSON.stringify(input) }));
    await clients.secrets.send(new CreateSecretCommand({ Name: tokenSecretName(NODE, workflowInstanceId), SecretString: JSON.stringify({ sessionToken: SESSION }) }));
    await s3.send(new PutObjectCommand({ Bucket: ENV_BUCKET, Key: envFileKey(NODE, workflowInstanceId), Body: `SESSION_TOKEN=${SESSION}\n` }));
    const record: ExecutionRecord = {
      executionId: workflowInstanceId,
      workflowInstanceId,
      backend: "aws",
      computeNodeId: NODE,
      stateMachineArn: machine.stateMachineArn,
      executionArn: started.executionArn,
      createdAt: new Date(t0).toISOString(),
      startedAt: new Date(t0).toISOString(),
      snapshot: SNAPSHOT,
      status,
      processors: { a: { status: "STARTED", startedAt: new Date(t0 + 300).toISOString() }, b: { status: "SUCCEEDED", startedAt: new Date(t0).toISOString(), finishedAt: new Date(t0 + 200).toISOString() }, c: { status: "NOT_STARTED" } },
    };
    await store.create(record);
    return { executionArn: started.executionArn!, stateMachineArn: machine.stateMachineArn! };
  }

  /** The handler as the finalize function runs it; histories come from fabricated events (moto's would hold no ECS task), everything else from moto. */
  function handler(hooks: { beforePut?: () => Promise<void> } = {}) {
    const clients = moto.clients;
    const dynamodb = {
      send: async (command: unknown): Promise<unknown> => {
        if (command instanceof PutItemCommand && hooks.beforePut) {
          const hook = hooks.beforePut;
          hooks.beforePut = undefined;
          await hook();
        }
        return clients.dynamodb.send(command as never);
      },
    };
    const sfn = {
      send: async (command: unknown): Promise<unknown> => {
        if (command instanceof GetExecutionHistoryCommand) {
          calls.push("GetExecutionHistory");
          const arn = command.input.executionArn!;
          return { events: stoppedHistory(t0, arn.split(":").pop()!) };
        }
        if (command instanceof DescribeExecutionCommand) calls.push("DescribeExecution");
        return clients.sfn.send(command as never);
      },
    };
    const lambda = {
      send: async (command: unknown): Promise<unknown> => {
        if (command instanceof InvokeCommand) cleanups.push(JSON.parse(new TextDecoder().decode(command.input.Payload as Uint8Array)));
        return clients.lambda.send(command as never);
      },
    };
    const options = { s3, logs, sfn, lambda, dynamodb, secrets: clients.secrets, env: ENV, now: () => new Date(t0 + 60_000) };
    return createStopHandler({ ...options, finalize: createFinalizeHandler(options) });
  }

  const stopEvent = (ids: { executionArn: string; stateMachineArn: string }, status: string, extra: Record<string, unknown> = {}) => ({
    version: "0",
    source: "aws.states",
    "detail-type": "Step Functions Execution Status Change",
    detail: { ...ids, status, startDate: t0, stopDate: t0 + 50_000, ...extra },
  });

  async function archiveObjects(): Promise<Record<string, { body: string; etag?: string }>> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: ARCHIVE }));
    const out: Record<string, { body: string; etag?: string }> = {};
    for (const o of listed.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: ARCHIVE, Key: o.Key! }));
      out[o.Key!] = { body: await got.Body!.transformToString(), etag: got.ETag };
    }
    return out;
  }
  const secretGone = async (workflowInstanceId: string) =>
    moto.clients.secrets.send(new DescribeSecretCommand({ SecretId: tokenSecretName(NODE, workflowInstanceId) })).then(
      () => false,
      () => true,
    );
  const envFileGone = async (workflowInstanceId: string) =>
    s3.send(new HeadObjectCommand({ Bucket: ENV_BUCKET, Key: envFileKey(NODE, workflowInstanceId) })).then(
      () => false,
      () => true,
    );

  it("archives once, reports once, revokes the tokens and ends the record ABORTED when an aborted execution's event arrives twice", async () => {
    const ids = await runningExecution("wi-1");
    const stop = handler();
    // No detail.input: the handler asks DescribeExecution which run this is.
    const first = (await stop(stopEvent(ids, "ABORTED"))) as StopResult;
    const afterFirst = await archiveObjects();
    const second = (await stop(stopEvent(ids, "ABORTED"))) as StopResult;

    expect(first).to.deep.include({ outcome: "finalized", workflowInstanceId: "wi-1", status: "ABORTED", canceledProcessors: ["a"], tokenSecret: "deleted", envFile: "deleted", efsCleanup: "done" });
    // The skipped Cleanup state, once, with the paths the compiled machine would have given it.
    expect(cleanups).to.deep.equal([{ action: "cleanup", computeNodeId: NODE, workflowInstanceId: "wi-1", workdir: "/mnt/efs/n1/workdir/wi-1", inputDir: "/mnt/efs/n1/input/wi-1" }]);
    expect(second).to.deep.include({ outcome: "already-finalized", status: "ABORTED", canceledProcessors: [] });
    const prefix = `executions/${NODE}/wi-1`;
    const objects = await archiveObjects();
    expect(Object.keys(objects).sort()).to.deep.equal([`${prefix}/cost-report.json`, `${prefix}/processors/a/task-a.log`]);
    // The second delivery wrote nothing: same objects, same contents.
    expect(objects).to.deep.equal(afterFirst);
    expect(objects[`${prefix}/processors/a/task-a.log`].body).to.match(/a started\n$/);
    expect(JSON.parse(objects[`${prefix}/cost-report.json`].body)).to.include({ workflowInstanceId: "wi-1", status: "FAILED" });
    expect(calls.filter((c) => c === "GetExecutionHistory")).to.have.length(1);
    expect(calls.filter((c) => c === "DescribeExecution")).to.have.length(2);

    expect(await secretGone("wi-1")).to.equal(true);
    expect(await envFileGone("wi-1")).to.equal(true);
    const record = (await store.get("wi-1"))!;
    expect(record.status).to.equal("ABORTED");
    expect(record.finishedAt).to.equal(new Date(t0 + 50_000).toISOString());
    expect(Object.values(record.processors).map((p) => p.status)).to.not.include("STARTED");
    expect(record.processors).to.deep.include({ b: { status: "SUCCEEDED", startedAt: new Date(t0).toISOString(), finishedAt: new Date(t0 + 200).toISOString() }, c: { status: "NOT_STARTED" } });
    expect(record.processors.a.status).to.equal("CANCELED");
    expect(record.artifacts).to.deep.equal({ logArchive: `s3://${ARCHIVE}/${prefix}/`, costReport: `s3://${ARCHIVE}/${prefix}/cost-report.json` });
    // Secrets never reach the archive, the record or the result.
    expect(JSON.stringify({ objects, record, first, second })).to.not.contain(SESSION);
  });

  it("ends a run that was being canceled CANCELED, whatever status the event gives", async () => {
    const ids = await runningExecution("wi-2", "CANCELING");
    const result = (await handler()(stopEvent(ids, "ABORTED"))) as StopResult;
    expect(result).to.deep.include({ outcome: "finalized", status: "CANCELED", canceledProcessors: ["a"] });
    const record = (await store.get("wi-2"))!;
    expect(record.status).to.equal("CANCELED");
    expect(record.error).to.equal(undefined);
    expect(record.processors.a.status).to.equal("CANCELED");
  });

  it("applies its change to what a racing writer wrote: a cancel recorded meanwhile still ends CANCELED", async () => {
    const ids = await runningExecution("wi-9");
    // Between the handler's read and its write, the runtime's cancel moves the record to CANCELING.
    const result = (await handler({ beforePut: async () => void (await store.updateExecution("wi-9", { status: "CANCELING" })) })(stopEvent(ids, "ABORTED"))) as StopResult;
    expect(result).to.deep.include({ outcome: "finalized", status: "CANCELED", canceledProcessors: ["a"] });
    const record = (await store.get("wi-9"))!;
    expect(record.status).to.equal("CANCELED");
    expect(record.artifacts?.costReport).to.equal(`s3://${ARCHIVE}/executions/${NODE}/wi-9/cost-report.json`);
  });

  it("ends a timed-out run TIMED_OUT, reading the ids from a complete detail.input without DescribeExecution", async () => {
    const ids = await runningExecution("wi-3");
    const input = JSON.stringify({ workflowInstanceId: "wi-3", computeNodeId: NODE });
    const result = (await handler()(stopEvent(ids, "TIMED_OUT", { input, inputDetails: { included: true } }))) as StopResult;
    expect(result).to.deep.include({ outcome: "finalized", status: "TIMED_OUT" });
    expect(calls).to.not.include("DescribeExecution");
    expect((await store.get("wi-3"))!.error).to.deep.equal({ error: "States.TIMED_OUT", cause: "the execution ended TIMED_OUT without running its Finalize state" });
  });

  it("asks DescribeExecution when detail.input is truncated", async () => {
    const ids = await runningExecution("wi-4");
    const result = (await handler()(stopEvent(ids, "ABORTED", { input: '{"workflowInstanceId":"wi-4","compu', inputDetails: { included: false } }))) as StopResult;
    expect(result).to.deep.include({ outcome: "finalized", workflowInstanceId: "wi-4" });
    expect(calls).to.include("DescribeExecution");
  });

  it("is a no-op for the archive when the machine's own Finalize already ran before the FAILED event", async () => {
    const ids = await runningExecution("wi-5");
    const prefix = `executions/${NODE}/wi-5`;
    await s3.send(new PutObjectCommand({ Bucket: ARCHIVE, Key: `${prefix}/cost-report.json`, Body: '{"written":"by the machine"}' }));
    const result = (await handler()(stopEvent(ids, "FAILED"))) as StopResult;
    expect(result).to.deep.include({ outcome: "already-finalized", status: "FAILED", canceledProcessors: ["a"] });
    expect(calls).to.not.include("GetExecutionHistory");
    expect(cleanups).to.deep.equal([]);
    const objects = await archiveObjects();
    expect(Object.keys(objects)).to.deep.equal([`${prefix}/cost-report.json`]);
    expect(objects[`${prefix}/cost-report.json`].body).to.equal('{"written":"by the machine"}');
    expect(await secretGone("wi-5")).to.equal(true);
  });

  it("keeps a record that already is terminal as it is, and only moves a leftover STARTED processor", async () => {
    const ids = await runningExecution("wi-6", "SUCCEEDED");
    const result = (await handler()(stopEvent(ids, "FAILED"))) as StopResult;
    expect(result.status).to.equal("SUCCEEDED");
    expect((await store.get("wi-6"))!.processors.a.status).to.equal("CANCELED");
  });

  it("ignores a child machine's execution and another node's, writing nothing", async () => {
    const ids = await runningExecution("wi-7");
    const child = { executionArn: `${ids.executionArn}-child`, stateMachineArn: ids.stateMachineArn };
    const asChild = (await handler()(stopEvent(child, "ABORTED", { input: JSON.stringify({ workflowInstanceId: "wi-7", computeNodeId: NODE }) }))) as StopResult;
    expect(asChild).to.deep.include({ outcome: "ignored" });
    const other = (await handler()(stopEvent(ids, "ABORTED", { input: JSON.stringify({ workflowInstanceId: "wi-7", computeNodeId: "n2" }) }))) as StopResult;
    expect(other.outcome).to.equal("ignored");
    expect(other.reason).to.match(/node "n2"/);
    expect(await archiveObjects()).to.deep.equal({});
    expect((await store.get("wi-7"))!.status).to.equal("RUNNING");
    expect(await secretGone("wi-7")).to.equal(false);
  });

  it("refuses an event that is not a Step Functions status change of a stopped run, naming what is wrong", async () => {
    const stop = handler();
    await stop({ source: "aws.states", "detail-type": "Step Functions Execution Status Change", detail: { executionArn: "nope", status: "ABORTED" } }).then(
      () => expect.fail("accepted"),
      (err: Error) => expect(err).to.include({ name: "FinalizeInputError" }).and.property("message").to.match(/executionArn/),
    );
    const arn = "arn:aws:states:us-east-1:123456789012:execution:cn-n1-wf:wi-8";
    await stop({ source: "aws.states", "detail-type": "Step Functions Execution Status Change", detail: { executionArn: arn, status: "SUCCEEDED" } }).then(
      () => expect.fail("accepted"),
      (err: Error) => expect(err.message).to.match(/ABORTED, TIMED_OUT, FAILED.*SUCCEEDED/),
    );
  });
});
