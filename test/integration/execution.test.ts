import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, GetExecutionHistoryCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { resolvePlan } from "../../lib/plan/resolve";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { AwsClients } from "../../lib/runtime/aws/clients";
import { deployWorkflow, startWorkflowExecution } from "../../lib/runtime/aws/executions";
import { refreshExecutionStatus } from "../../lib/runtime/aws/tracking";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { useMoto } from "./moto";
import { createNodeFunctions, motoClients, motoNode } from "./fixtures";

const diamond = {
  name: "lambda-diamond",
  processors: [
    { id: "a", sourceUrl: "img-a:1" },
    { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] },
    { id: "c", sourceUrl: "img-c:1", dependsOn: ["a"] },
    { id: "d", sourceUrl: "img-d:1", dependsOn: ["b", "c"] },
  ],
};
const lambdaOnly = ["a", "b", "c", "d"].map((x) => ({ sourceUrl: `img-${x}:1`, computeTypes: ["lambda"] }));
const TOKENS = { sessionToken: "sess-TOKEN-abc123", refreshToken: "refresh-TOKEN-def456" };

async function untilTerminal(clients: AwsClients, store: DynamoRecordStore, executionId: string): Promise<ExecutionRecord> {
  for (let i = 0; i < 120; i++) {
    const record = await refreshExecutionStatus({ executionId, store, clients });
    if (["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"].includes(record.status)) return record;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`execution ${executionId} did not finish`);
}

describe("executions on Step Functions (moto)", function () {
  this.timeout(40000);
  // moto may answer a second StartExecution in a region with a 500: every test starts from a reset.
  const moto = useMoto();
  let node: NodeOutputs;
  let store: DynamoRecordStore;
  beforeEach(async () => {
    const { clients } = moto;
    node = await motoNode(moto.endpoint, "node-e2e");
    await createNodeFunctions(clients, node);
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("cn-executions")));
    store = new DynamoRecordStore({ clients, tableName: "cn-executions" });
  });

  it("runs a Lambda-only diamond to SUCCEEDED with every processor SUCCEEDED, and keeps tokens out of the input", async () => {
    const { clients } = moto;
    const plan = resolvePlan(diamond, { processors: lambdaOnly, mode: "secure" });
    const started = await startWorkflowExecution({ node, plan, clients, store, tokens: TOKENS });
    expect(started.executionArn).to.match(/:execution:cn-node-e2e-lambda-diamond-[0-9a-f]{8}:wi-/);
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described.input).to.not.include("TOKEN");
    expect(JSON.parse(described.input!)).to.include({ workflowInstanceId: started.executionId, computeNodeId: "node-e2e" });
    const secret = await clients.secrets.send(new GetSecretValueCommand({ SecretId: `cn/node-e2e/${started.executionId}` }));
    expect(JSON.parse(secret.SecretString!)).to.deep.equal(TOKENS);

    const initial = await store.get(started.executionId);
    expect(initial!.snapshot.definitionHash).to.equal(started.deploy.definitionHash);
    expect(initial!.snapshot.resolved.map((p) => p.computeType)).to.deep.equal(["lambda", "lambda", "lambda", "lambda"]);

    const record = await untilTerminal(clients, store, started.executionId);
    expect(record.status).to.equal("SUCCEEDED");
    for (const id of ["a", "b", "c", "d"]) {
      expect(record.processors[id].status, id).to.equal("SUCCEEDED");
      expect(record.processors[id].startedAt, id).to.be.a("string");
      expect(record.processors[id].finishedAt! >= record.processors[id].startedAt!, id).to.equal(true);
    }
    expect(record.processors.d.startedAt! >= record.processors.b.finishedAt!).to.equal(true);
    expect(JSON.stringify(record)).to.not.include("TOKEN");
    // The token secret goes once the execution has ended.
    const gone = await clients.secrets.send(new GetSecretValueCommand({ SecretId: `cn/node-e2e/${started.executionId}` })).then(() => false, () => true);
    expect(gone).to.equal(true);

    const again = motoClients(moto.endpoint);
    expect((await deployWorkflow({ node, plan, clients: again })).mutatingCalls).to.equal(0);
  });

  it("runs a Map of twin processors and tracks every twin to SUCCEEDED", async () => {
    const { clients } = moto;
    const twins = ["t1", "t2", "t3", "t4"];
    const fanOut = {
      name: "fan-out",
      processors: [{ id: "a", sourceUrl: "img-a:1" }, ...twins.map((id) => ({ id, sourceUrl: "img-twin:1", dependsOn: ["a"] })), { id: "z", sourceUrl: "img-z:1", dependsOn: twins }],
    };
    const plan = resolvePlan(fanOut, { processors: ["img-a:1", "img-twin:1", "img-z:1"].map((sourceUrl) => ({ sourceUrl, computeTypes: ["lambda"] })), mode: "secure" });
    const started = await startWorkflowExecution({ node, plan, clients, store, tokens: TOKENS });
    expect(JSON.stringify(started.deploy.definition)).to.include('"Type":"Map"');
    const record = await untilTerminal(clients, store, started.executionId);
    expect(record.status).to.equal("SUCCEEDED");
    for (const id of ["a", ...twins, "z"]) expect(record.processors[id].status, id).to.equal("SUCCEEDED");
    for (const id of twins) expect(record.processors[id].startedAt! >= record.processors.a.finishedAt!, id).to.equal(true);
  });

  it("adopts an execution whose start was interrupted before its ARN was recorded", async () => {
    const { clients } = moto;
    const plan = resolvePlan(diamond, { processors: lambdaOnly, mode: "secure" });
    // Fault injection: the record write after StartExecution fails, as a crash at that point would.
    const flaky = Object.create(store) as DynamoRecordStore;
    flaky.updateExecution = async (id, patch) => {
      if (patch.executionArn) throw Object.assign(new Error("injected"), { name: "InternalServerError" });
      return store.updateExecution(id, patch);
    };
    const err = await startWorkflowExecution({ node, plan, clients, store: flaky, tokens: TOKENS, workflowInstanceId: "wi-interrupted" }).catch((e) => e);
    expect(err?.message).to.equal("injected");
    expect((await store.get("wi-interrupted"))!.status).to.equal("PENDING");
    const record = await untilTerminal(clients, store, "wi-interrupted");
    expect(record.executionArn).to.match(/:execution:.*:wi-interrupted$/);
    expect(record.status).to.equal("SUCCEEDED");
    expect(Object.values(record.processors).map((p) => p.status)).to.deep.equal(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
  });

  it("leaves no processor STARTED once an execution is stopped", async () => {
    const { clients } = moto;
    const plan = resolvePlan(diamond, { processors: lambdaOnly, mode: "secure" });
    const started = await startWorkflowExecution({ node, plan, clients, store, tokens: TOKENS });
    // moto answers StopExecution with a 500 until its worker has set the execution up: wait for the first state.
    for (let i = 0; i < 40; i++) {
      const events = (await clients.sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }))).events ?? [];
      if (events.length > 1) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await clients.sfn.send(new StopExecutionCommand({ executionArn: started.executionArn, error: "Stopped", cause: "test" }));
    const record = await untilTerminal(clients, store, started.executionId);
    expect(record.status).to.be.oneOf(["ABORTED", "SUCCEEDED"]);
    if (record.status === "ABORTED") {
      expect(Object.values(record.processors).map((p) => p.status)).to.not.include("STARTED");
      for (const p of Object.values(record.processors).filter((p) => p.status === "FAILED")) expect(p.cause).to.match(/ABORTED/);
    }
  });
});
