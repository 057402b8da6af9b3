import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent } from "@aws-sdk/client-sfn";
import { resolvePlan } from "../../lib/plan/resolve";
import { readMarkers } from "../../lib/compile/markers";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { AwsClients } from "../../lib/runtime/aws/clients";
import { startWorkflowExecution, deployWorkflow } from "../../lib/runtime/aws/executions";
import { refreshExecutionStatus } from "../../lib/runtime/aws/tracking";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { ValidationError } from "../../lib/errors";
import { useMoto } from "./moto";
import { createNodeFunctions, motoNode, sdkConfig } from "./fixtures";

const TOKENS = { sessionToken: "eyJSESSION.tok3n-never-in-history", refreshToken: "REFRESH-tok3n-never-in-history" };
const leaks = (value: unknown) => [TOKENS.sessionToken, TOKENS.refreshToken].filter((t) => JSON.stringify(value ?? null).includes(t));

async function history(clients: AwsClients, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The state each event belongs to: its own name for state entered/exited, else that of the event it follows. */
function owners(events: HistoryEvent[]): Map<number, string> {
  const byId = new Map(events.map((e) => [e.id!, e]));
  const out = new Map<number, string>();
  const owner = (e: HistoryEvent | undefined): string => {
    if (!e) return "(execution)";
    if (out.has(e.id!)) return out.get(e.id!)!;
    const name = e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name ?? (e.previousEventId ? owner(byId.get(e.previousEventId)) : "(execution)");
    out.set(e.id!, name);
    return name;
  };
  for (const e of events) owner(e);
  return out;
}

async function untilTerminal(clients: AwsClients, store: DynamoRecordStore, executionId: string, envFileBucket?: string): Promise<ExecutionRecord> {
  for (let i = 0; i < 160; i++) {
    const record = await refreshExecutionStatus({ executionId, store, clients, envFileBucket });
    if (["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"].includes(record.status)) return record;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`execution ${executionId} did not finish`);
}

describe("tokens in execution histories (moto)", function () {
  this.timeout(60000);
  const moto = useMoto();
  let node: NodeOutputs;
  let store: DynamoRecordStore;
  let s3: S3Client;
  beforeEach(async () => {
    const { clients } = moto;
    node = await motoNode(moto.endpoint, "node-sec");
    await createNodeFunctions(clients, node);
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("cn-executions")));
    store = new DynamoRecordStore({ clients, tableName: "cn-executions" });
    s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: node.envFileBucket! }));
  });

  it("holds no token in any event of an ECS workflow's history, the run state's parameters included", async () => {
    const { clients } = moto;
    const workflow = { name: "ecs-only", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] };
    const plan = resolvePlan(workflow, { processors: [{ sourceUrl: "img-a:1" }, { sourceUrl: "img-b:1" }], mode: "secure" });
    const started = await startWorkflowExecution({ node, plan, clients, store, tokens: TOKENS });
    // A stand-in for the file the tokens function writes (moto's Lambda only echoes): tracking must delete it.
    const key = `execution-env/node-sec/${started.executionId}.env`;
    await s3.send(new PutObjectCommand({ Bucket: node.envFileBucket!, Key: key, Body: `SESSION_TOKEN=${TOKENS.sessionToken}\n` }));
    const record = await untilTerminal(clients, store, started.executionId, node.envFileBucket);
    // moto cannot run ecs:runTask.sync; its TaskScheduled event is still written, which is what is read here.
    expect(record.status).to.equal("FAILED");

    const events = await history(clients, started.executionArn);
    const scheduled = events.filter((e) => e.type === "TaskScheduled" && e.taskScheduledEventDetails?.resourceType === "ecs");
    expect(scheduled.length).to.be.greaterThan(0);
    const parameters = JSON.parse(scheduled[0].taskScheduledEventDetails!.parameters!);
    expect(parameters.Overrides.ContainerOverrides[0].EnvironmentFiles).to.deep.equal([{ Type: "s3", Value: `arn:aws:s3:::${node.envFileBucket}/${key}` }]);
    expect(events.filter((e) => leaks(e).length).map((e) => `${e.id} ${e.type}`)).to.deep.equal([]);
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(leaks(described)).to.deep.equal([]);
    expect(leaks(record)).to.deep.equal([]);
    expect(await s3.send(new HeadObjectCommand({ Bucket: node.envFileBucket!, Key: key })).then(() => "kept", () => "deleted")).to.equal("deleted");
  });

  it("holds a Lambda processor's tokens only in its own ResolveToken and run state, never in a later state, Catch path or Fail input", async () => {
    const { clients } = moto;
    // a (Lambda) then b (ECS, which moto fails): the failure path runs after the tokens were in the state.
    const workflow = { name: "mixed", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] };
    const plan = resolvePlan(workflow, { processors: [{ sourceUrl: "img-a:1", computeTypes: ["lambda"] }, { sourceUrl: "img-b:1" }], mode: "secure" });
    const started = await startWorkflowExecution({ node, plan, clients, store, tokens: TOKENS });
    const record = await untilTerminal(clients, store, started.executionId, node.envFileBucket);
    expect(record.status).to.equal("FAILED");
    expect(record.processors.a.status).to.equal("SUCCEEDED");

    const markers = readMarkers(started.deploy.definition);
    const allowed = new Set([...markers].filter(([, m]) => m.processorIds.includes("a") && (m.kind === "resolve-token" || m.kind === "processor")).map(([name]) => name));
    expect(allowed.size).to.equal(2);
    const events = await history(clients, started.executionArn);
    const owner = owners(events);
    const holding = events.filter((e) => leaks(e).length);
    expect(holding.length, "the Lambda processor's payload holds them").to.be.greaterThan(0);
    expect(holding.filter((e) => !allowed.has(owner.get(e.id!)!)).map((e) => `${e.id} ${e.type} (${owner.get(e.id!)})`)).to.deep.equal([]);
    expect(leaks(await clients.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn })))).to.deep.equal([]);
  });

  it("refuses to deploy ECS processors on a node without a tokens function", async () => {
    const { clients } = moto;
    const old = { ...node, tokensFunctionArn: undefined };
    const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img-a:1" }] }, { processors: [{ sourceUrl: "img-a:1" }], mode: "secure" });
    const before = clients.mutations.calls.length;
    const err = await deployWorkflow({ node: old, plan, clients }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).issues[0]).to.include({ code: "node_outdated" });
    expect(clients.mutations.calls.slice(before)).to.deep.equal([]);
  });
});
