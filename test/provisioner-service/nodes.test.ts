import { expect } from "chai";
import { createReadyNode, removeDir, startTestService, TestService, waitForOperation } from "./helpers";

describe("provisioner service: nodes", () => {
  let svc: TestService;
  beforeEach(async () => (svc = await startTestService()));
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("accepts a create with 202, an operation Location and Retry-After, and ends with a ready node", async () => {
    const res = await svc.post("/v1/nodes", { id: "lab-1", mode: "secure", region: "eu-west-1", options: { maxVcpus: 16 } }).expect(202);
    expect(res.headers.location).to.equal(`/v1/operations/${res.body.operation.id}`);
    expect(res.headers["retry-after"]).to.equal("1");
    expect(res.body.operation).to.include({ nodeId: "lab-1", kind: "create" });
    expect(res.body.operation.state).to.be.oneOf(["queued", "running"]);
    expect(res.body.node).to.include({ id: "lab-1", status: "creating", mode: "secure", region: "eu-west-1" });

    const op = await waitForOperation(svc, res.body.operation.id);
    expect(op.state).to.equal("succeeded");
    expect(op.summary.resourceChanges).to.deep.equal({ create: 3 });
    const node = (await svc.get("/v1/nodes/lab-1").expect(200)).body;
    expect(node).to.include({ status: "ready", lastOperationId: op.id });
    expect(node.lastOperation).to.include({ id: op.id, kind: "create", state: "succeeded" });
    expect(node.outputs).to.include({ computeNodeId: "lab-1", region: "eu-west-1", deploymentMode: "secure" });
    expect(node.options).to.deep.equal({ maxVcpus: 16 });
  });

  it("never shows a secret output's value, only its name", async () => {
    await createReadyNode(svc, "lab-2");
    const one = await svc.get("/v1/nodes/lab-2").expect(200);
    const all = await svc.get("/v1/nodes").expect(200);
    expect(one.body.secretOutputs).to.deep.equal(["apiKey"]);
    expect(one.body.outputs).to.not.have.property("apiKey");
    expect(JSON.stringify(one.body) + JSON.stringify(all.body)).to.not.include("s3cr3t");
    expect(svc.logs.join("")).to.not.include("s3cr3t");
  });

  it("rejects an invalid create with 400 naming every bad field, and records nothing", async () => {
    const res = await svc.post("/v1/nodes", { id: "Bad_Id!", mode: "paranoid", extra: 1 }).expect(400);
    const fields = res.body.error.issues.map((i: { field: string }) => i.field);
    expect(fields).to.include.members(["body.id", "body.mode", "body.region"]);
    expect(res.body.error.issues.find((i: { field: string }) => i.field === "body").code).to.equal("unrecognized_keys");
    expect((await svc.get("/v1/nodes").expect(200)).body.nodes).to.deep.equal([]);
  });

  it("answers 400 for malformed JSON and 404 for an unknown node", async () => {
    const bad = await svc.post("/v1/nodes").set("Content-Type", "application/json").send('{"id": ').expect(400);
    expect(bad.body.error.code).to.equal("invalid_json");
    const form = await svc.post("/v1/nodes").set("Content-Type", "application/x-www-form-urlencoded").send("id=x&region=us-east-1").expect(415);
    expect(form.body.error.message).to.include("application/json");
    await svc.get("/v1/nodes/..%2F..%2Fetc").expect(404);
    await svc.get("/v1/operations/..%2Fx").expect(404);
    const missing = await svc.get("/v1/nodes/nope").expect(404);
    expect(missing.body.error).to.include({ code: "not_found" });
    expect(missing.body.error.requestId).to.be.a("string");
  });

  it("refuses to create a node that exists with 409", async () => {
    await createReadyNode(svc, "lab-3");
    const res = await svc.post("/v1/nodes", { id: "lab-3", region: "us-east-1" }).expect(409);
    expect(res.body.error.message).to.include("already exists");
  });

  it("refuses a second mutating call on a busy node with 409 naming the running operation", async () => {
    await createReadyNode(svc, "lab-4");
    const [a, b] = await Promise.all([svc.patch("/v1/nodes/lab-4", { options: { a: 1 } }), svc.patch("/v1/nodes/lab-4", { options: { a: 2 } })]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).to.deep.equal([202, 409]);
    const [winner, loser] = a.status === 202 ? [a, b] : [b, a];
    expect(loser.body.error.holderId).to.equal(winner.body.operation.id);
    const op = await waitForOperation(svc, winner.body.operation.id);
    expect(op.state).to.equal("succeeded");
    // The loser never reached the engine: exactly one update ran on the stack.
    expect(svc.engine.calls.filter((c) => c.kind === "up")).to.have.length(2);
    const del = await svc.del("/v1/nodes/lab-4").expect(202);
    expect((await svc.patch("/v1/nodes/lab-4", { mode: "secure" }).expect(409)).body.error.holderId).to.equal(del.body.operation.id);
  });

  it("runs operations of different nodes in parallel up to the configured limit and queues the rest", async () => {
    await svc.close();
    svc = await startTestService({ maxConcurrentOperations: 2, stepMs: 10 });
    const responses = await Promise.all(["p-1", "p-2", "p-3", "p-4"].map((id) => svc.post("/v1/nodes", { id, region: "us-east-1" }).expect(202)));
    const ops = await Promise.all(responses.map((r) => waitForOperation(svc, r.body.operation.id)));
    expect(ops.map((o) => o.state)).to.deep.equal(["succeeded", "succeeded", "succeeded", "succeeded"]);
    expect(svc.engine.maxParallel).to.equal(2);
  });

  it("updates a node's options and mode, keeping its region", async () => {
    await createReadyNode(svc, "lab-5");
    const res = await svc.patch("/v1/nodes/lab-5", { mode: "compliant", options: { logRetentionDays: 30 } }).expect(202);
    expect(res.body.operation.kind).to.equal("update");
    await waitForOperation(svc, res.body.operation.id);
    const node = (await svc.get("/v1/nodes/lab-5").expect(200)).body;
    expect(node).to.include({ status: "ready", mode: "compliant", region: "us-east-1" });
    expect(node.outputs.deploymentMode).to.equal("compliant");
    const region = await svc.patch("/v1/nodes/lab-5", { region: "eu-west-1" }).expect(400);
    expect(region.body.error.issues[0].code).to.equal("unrecognized_keys");
    await svc.patch("/v1/nodes/lab-5", {}).expect(400);
  });

  it("marks a node failed when its stack change fails, shows why, and lets an update fix it", async () => {
    svc.engine.failNext("lab-6", "up");
    const res = await svc.post("/v1/nodes", { id: "lab-6", region: "us-east-1" }).expect(202);
    const op = await waitForOperation(svc, res.body.operation.id);
    expect(op.state).to.equal("failed");
    expect(op.error).to.deep.include({ code: "stack_operation_failed" });
    expect(op.error.message).to.include("AccessDenied");
    expect((await svc.get("/v1/nodes/lab-6").expect(200)).body.status).to.equal("failed");
    const retry = await svc.patch("/v1/nodes/lab-6", { options: {} }).expect(202);
    expect((await waitForOperation(svc, retry.body.operation.id)).state).to.equal("succeeded");
    expect((await svc.get("/v1/nodes/lab-6").expect(200)).body.status).to.equal("ready");
  });

  it("destroys a node's stack and allows creating it again", async () => {
    await createReadyNode(svc, "lab-7");
    const res = await svc.del("/v1/nodes/lab-7").expect(202);
    expect(res.body.operation.kind).to.equal("destroy");
    const op = await waitForOperation(svc, res.body.operation.id);
    expect(op).to.include({ state: "succeeded" });
    expect(op.summary.resourceChanges).to.deep.equal({ delete: 3 });
    const gone = (await svc.get("/v1/nodes/lab-7").expect(404)).body;
    expect(gone.error.message).to.include(`destroyed by operation ${op.id}`);
    expect((await svc.get("/v1/nodes").expect(200)).body.nodes.map((n: { id: string }) => n.id)).to.not.include("lab-7");
    expect(svc.engine.backend.stacks.has("lab-7")).to.equal(false);
    await svc.del("/v1/nodes/lab-7").expect(404);
    await createReadyNode(svc, "lab-7");
  });

  it("fails an operation with code conflict when another process holds the stack lock, and leaves the node usable", async () => {
    await createReadyNode(svc, "lab-10");
    svc.engine.backend.stacks.get("lab-10")!.lock = "held-by-another-process";
    const res = await svc.patch("/v1/nodes/lab-10", { options: {} }).expect(202);
    const op = await waitForOperation(svc, res.body.operation.id);
    expect(op).to.include({ state: "failed" });
    expect(op.error.code).to.equal("conflict");
    expect(op.error.message).to.include("locked");
    svc.engine.backend.stacks.get("lab-10")!.lock = undefined;
    const retry = await svc.patch("/v1/nodes/lab-10", { options: {} }).expect(202);
    expect((await waitForOperation(svc, retry.body.operation.id)).state).to.equal("succeeded");
  });

  it("destroys a node whose stack does not exist (its create failed early) instead of failing forever", async () => {
    await createReadyNode(svc, "lab-9");
    svc.engine.backend.stacks.delete("lab-9");
    const res = await svc.del("/v1/nodes/lab-9").expect(202);
    expect((await waitForOperation(svc, res.body.operation.id)).state).to.equal("succeeded");
    await svc.get("/v1/nodes/lab-9").expect(404);
  });

  it("answers 503 saying what to install when the engine is unavailable, and creates nothing", async () => {
    await svc.close();
    svc = await startTestService({ engineAvailable: false });
    const res = await svc.post("/v1/nodes", { id: "lab-8", region: "us-east-1" }).expect(503);
    expect(res.body.error.code).to.equal("unavailable");
    expect(res.body.error.message).to.include("Pulumi CLI");
    await svc.get("/v1/nodes/lab-8").expect(404);
    await svc.post("/v1/nodes", { id: "lab-8", region: "us-east-1" }).expect(503);
    const ready = await svc.get("/readyz").expect(200);
    expect(ready.body.checks.engine).to.match(/^unavailable: .*Pulumi CLI/);
  });

  it("previews a change with the engine without changing the node, and refuses while an operation holds the node", async () => {
    await createReadyNode(svc, "pre-1");
    const before = svc.engine.calls.filter((c) => c.kind === "up").length;
    const planned = (await svc.post("/v1/nodes/pre-1/preview", { mode: "compliant" }).expect(200)).body;
    expect(planned).to.include({ nodeId: "pre-1", mode: "compliant" });
    expect(planned.resourceChanges).to.be.an("object");
    expect(svc.engine.calls.filter((c) => c.kind === "up").length).to.equal(before);
    expect((await svc.get("/v1/nodes/pre-1").expect(200)).body.mode).to.equal("basic");

    const hold = svc.engine.holdNext("pre-1", "up");
    const update = await svc.patch("/v1/nodes/pre-1", { options: { gpu: true } }).expect(202);
    const busy = await svc.post("/v1/nodes/pre-1/preview").expect(409);
    expect(busy.body.error.holderId).to.equal(update.body.operation.id);
    hold.release();
    await waitForOperation(svc, update.body.operation.id);
  });
});
