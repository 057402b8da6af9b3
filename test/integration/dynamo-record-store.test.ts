import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { ConflictError } from "../../lib/errors";
import { ExecutionRecord } from "../../lib/model/execution-record";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { useMoto } from "./moto";

describe("DynamoRecordStore (moto)", function () {
  this.timeout(30000);
  const moto = useMoto();
  let store: DynamoRecordStore;
  beforeEach(async () => {
    const { clients } = moto;
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("records")));
    store = new DynamoRecordStore({ clients, tableName: "records" });
  });

  const ids = Array.from({ length: 12 }, (_, i) => `p${i}`);
  function record(executionId: string): ExecutionRecord {
    const plan = resolvePlan({ name: "w", processors: ids.map((id) => ({ id, sourceUrl: "img:1" })) });
    return {
      executionId, workflowInstanceId: executionId, backend: "aws", computeNodeId: "n", createdAt: "2026-01-01T00:00:00.000Z", status: "PENDING",
      snapshot: executionSnapshot(plan, "h"),
      processors: Object.fromEntries(ids.map((id) => [id, { status: "NOT_STARTED" as const }])),
    };
  }

  it("never overwrites a snapshot: a second create of the same id is a ConflictError", async () => {
    await store.create(record("wi-1"));
    const err = await store.create(record("wi-1")).catch((e) => e);
    expect(err).to.be.instanceOf(ConflictError);
    expect(err.holderId).to.equal("wi-1");
  });

  it("keeps every one of many concurrent processor updates", async () => {
    await store.create(record("wi-2"));
    await Promise.all(ids.map((id, i) => store.updateProcessor("wi-2", id, { status: "SUCCEEDED", finishedAt: `2026-01-01T00:00:${String(i).padStart(2, "0")}.000Z` })));
    const stored = await store.get("wi-2");
    expect(ids.map((id) => stored!.processors[id].status)).to.deep.equal(ids.map(() => "SUCCEEDED"));
  });

  it("refuses to move a processor backwards and keeps the snapshot whatever an update says", async () => {
    await store.create(record("wi-3"));
    await store.updateProcessor("wi-3", "p0", { status: "FAILED", cause: "exit code 1" });
    const after = await store.updateProcessor("wi-3", "p0", { status: "STARTED" });
    expect(after.processors.p0).to.deep.equal({ status: "FAILED", cause: "exit code 1" });
    const patched = await store.updateExecution("wi-3", { status: "RUNNING", snapshot: { bogus: true } } as never);
    expect(patched.snapshot.definitionHash).to.equal("h");
    expect((await store.list()).map((r) => r.executionId)).to.deep.equal(["wi-3"]);
  });
});
