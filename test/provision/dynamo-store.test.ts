import { expect } from "chai";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoProvisionStore, provisionTableDefinition } from "../../lib/provision/dynamo-store";
import { OperationRecord } from "../../lib/provision/records";
import { describeStoreDefinitionsAndEvents } from "./store-contract";
import { startMoto } from "./moto";

const op = (id: string, state: OperationRecord["state"], createdAt: string): OperationRecord => ({ id, nodeId: "n-1", kind: "update", state, createdAt });

describe("DynamoProvisionStore (moto)", function () {
  this.timeout(30000);
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let store: DynamoProvisionStore;
  before(async () => {
    moto = await startMoto();
    const raw = new DynamoDBClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 });
    await raw.send(new CreateTableCommand(provisionTableDefinition("cn-provisioner")));
    store = new DynamoProvisionStore({ client: DynamoDBDocumentClient.from(raw), tableName: "cn-provisioner" });
  });
  after(() => moto?.stop());

  it("keeps nodes and lists them by id", async () => {
    const node = { id: "b", mode: "basic" as const, region: "us-east-1", options: { x: 1 }, status: "ready" as const, createdAt: "t", updatedAt: "t", outputs: { clusterArn: "arn" } };
    await store.putNode(node);
    await store.putNode({ ...node, id: "a" });
    expect(await store.getNode("b")).to.deep.equal(node);
    expect((await store.listNodes()).map((n) => n.id)).to.deep.equal(["a", "b"]);
    expect(await store.getNode("zzz")).to.equal(undefined);
  });

  it("finds operations left unfinished, and forgets them once finished", async () => {
    await store.putOperation(op("op-2", "running", "2026-01-01T00:00:02Z"));
    await store.putOperation(op("op-1", "queued", "2026-01-01T00:00:01Z"));
    await store.putOperation(op("op-3", "running", "2026-01-01T00:00:03Z"));
    await store.putOperation(op("op-3", "succeeded", "2026-01-01T00:00:03Z"));
    expect((await store.listUnfinishedOperations()).map((o) => o.id)).to.deep.equal(["op-1", "op-2"]);
    expect((await store.getOperation("op-3"))!.state).to.equal("succeeded");
  });

  it("returns an operation's events in sequence order", async () => {
    for (const sequence of [2, 10, 1])
      await store.appendEvent({ sequence, timestamp: "t", operationId: "op-9", type: "output", text: `line ${sequence}` });
    expect((await store.readEvents("op-9")).map((e) => e.sequence)).to.deep.equal([1, 2, 10]);
  });

  it("binds an idempotency key once, even when claims race", async () => {
    const claims = await Promise.all([1, 2, 3].map((i) => store.claimIdempotencyKey({ key: "same key", fingerprint: "f", operationId: `op-${i}`, createdAt: "t" })));
    expect(claims.filter((c) => c === undefined)).to.have.length(1);
    const bound = await store.getIdempotencyKey("same key");
    expect(claims.filter(Boolean).map((c) => c!.operationId)).to.deep.equal([bound!.operationId, bound!.operationId]);
  });

  it("keeps execution references", async () => {
    await store.putExecutionRef({ executionId: "wi-1", nodeId: "a", workflowName: "w", createdAt: "t" });
    expect(await store.getExecutionRef("wi-1")).to.deep.include({ nodeId: "a" });
    expect(await store.getExecutionRef("wi-2")).to.equal(undefined);
  });

  describeStoreDefinitionsAndEvents(() => store);
});
