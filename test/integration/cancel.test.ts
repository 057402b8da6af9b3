import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { ConflictError, NotFoundError } from "../../lib/errors";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { stateMachineName } from "../../lib/model/names";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { stopWorkflowExecution } from "../../lib/runtime/aws";
import { refreshExecutionStatus } from "../../lib/runtime/aws/tracking";
import { useMoto } from "./moto";
import { motoNode } from "./fixtures";

describe("stopWorkflowExecution (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();
  let store: DynamoRecordStore;
  let record: ExecutionRecord;

  // A machine that waits long enough to be canceled, and the record a start would have written for it.
  beforeEach(async () => {
    const { clients } = moto;
    const node = await motoNode(moto.endpoint, "node-cancel");
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("cn-executions")));
    store = new DynamoRecordStore({ clients, tableName: "cn-executions" });
    const machine = await clients.sfn.send(
      new CreateStateMachineCommand({
        name: stateMachineName("node-cancel", "slow"),
        roleArn: node.stateMachineRoleArn,
        definition: JSON.stringify({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 30, End: true } } }),
      }),
    );
    const started = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: "wi-slow" }));
    // moto answers StopExecution with a 500 until its worker has set the execution up: wait for the first state.
    for (let i = 0; i < 80; i++) {
      const events = (await clients.sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }))).events ?? [];
      if (events.length > 1) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const plan = resolvePlan({ name: "slow", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] }, { processors: [{ sourceUrl: "img-a:1", computeTypes: ["lambda"] }, { sourceUrl: "img-b:1", computeTypes: ["lambda"] }], mode: "secure" });
    record = {
      executionId: "wi-slow",
      workflowInstanceId: "wi-slow",
      backend: "aws",
      computeNodeId: "node-cancel",
      stateMachineArn: machine.stateMachineArn,
      executionArn: started.executionArn,
      createdAt: new Date().toISOString(),
      snapshot: executionSnapshot(plan, "h"),
      status: "RUNNING",
      // "a" was running when the cancel came: it must not stay STARTED.
      processors: { a: { status: "STARTED", startedAt: new Date().toISOString() }, b: { status: "NOT_STARTED" } },
    };
    await store.create(record);
  });

  it("stops a running execution with the user's cause and ends its record CANCELED with no processor left STARTED", async () => {
    const { clients } = moto;
    const canceled = await stopWorkflowExecution({ executionId: "wi-slow", store, clients });
    expect(clients.mutations.calls).to.include("sfn:StopExecution");
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: record.executionArn }));
    expect(described.status).to.equal("ABORTED");
    expect(canceled.status).to.equal("CANCELED");
    expect(canceled.error?.cause).to.equal("canceled by user");
    expect(canceled.processors.a.status).to.equal("CANCELED");
    expect(canceled.processors.b.status).to.equal("NOT_STARTED");
    expect((await store.get("wi-slow"))!.status).to.equal("CANCELED");
  });

  it("accepts a second cancel while the first is still CANCELING", async () => {
    const { clients } = moto;
    await store.updateExecution("wi-slow", { status: "CANCELING" });
    const first = await stopWorkflowExecution({ executionId: "wi-slow", store, clients });
    expect(first.status).to.be.oneOf(["CANCELING", "CANCELED"]);
    await store.updateExecution("wi-slow", { status: "CANCELING" });
    const second = await stopWorkflowExecution({ executionId: "wi-slow", store, clients });
    expect(second.status).to.equal("CANCELED");
  });

  it("refuses to cancel an execution that has ended, naming its status", async () => {
    const { clients } = moto;
    await stopWorkflowExecution({ executionId: "wi-slow", store, clients });
    const err = await stopWorkflowExecution({ executionId: "wi-slow", store, clients }).then(() => undefined, (e) => e);
    expect(err).to.be.instanceOf(ConflictError);
    expect(err.code).to.equal("conflict");
    expect(err.message).to.include("CANCELED");
    const refreshed = await refreshExecutionStatus({ executionId: "wi-slow", store, clients });
    expect(refreshed.status).to.equal("CANCELED");
  });

  it("answers NotFoundError for an execution it has no record of", async () => {
    const err = await stopWorkflowExecution({ executionId: "wi-unknown", store, clients: moto.clients }).then(() => undefined, (e) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect(err.message).to.include("wi-unknown");
  });
});
