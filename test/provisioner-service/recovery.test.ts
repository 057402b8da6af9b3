import { expect } from "chai";
import { MemoryBackend } from "../provision/memory-engine";
import { readSse, removeDir, startTestService, TestService, waitForOperation } from "./helpers";

describe("provisioner service: restart recovery", () => {
  const services: TestService[] = [];
  afterEach(async () => {
    const dirs = new Set(services.map((s) => s.dataDir));
    for (const svc of services.splice(0)) await svc.crash().catch(() => undefined);
    for (const dir of dirs) await removeDir(dir);
  });

  async function crashDuringCreate(nodeId: string) {
    const backend = new MemoryBackend();
    const first = await startTestService({ backend });
    services.push(first);
    first.engine.hangNext(nodeId, "up");
    const res = await first.post("/v1/nodes", { id: nodeId, region: "us-east-1" }).expect(202);
    const opId = res.body.operation.id as string;
    for (let i = 0; i < 200 && !backend.stacks.get(nodeId)?.pendingCreates; i++) await new Promise((r) => setTimeout(r, 5));
    expect(backend.stacks.get(nodeId)!.lock, "the crashed update holds the stack lock").to.be.a("string");
    await first.crash();
    return { backend, dataDir: first.dataDir, opId };
  }

  it("marks an operation a crash interrupted, releases the stack lock (cancel + refresh), and the node accepts updates again", async () => {
    const { backend, dataDir, opId } = await crashDuringCreate("r-1");
    const second = await startTestService({ backend, dataDir });
    services.push(second);

    const interrupted = (await second.get(`/v1/operations/${opId}`).expect(200)).body;
    expect(interrupted).to.include({ state: "interrupted" });
    expect(interrupted.error.code).to.equal("interrupted");
    const stream = await readSse(`${second.url}/v1/operations/${opId}/events`);
    expect(stream.messages.at(-1)!.data).to.include({ type: "operation-finished", state: "interrupted" });

    const node = (await second.get("/v1/nodes/r-1").expect(200)).body;
    const recovery = await waitForOperation(second, node.lastOperationId);
    expect(recovery).to.include({ kind: "recover", state: "succeeded", recoversOperationId: opId });
    expect(second.engine.calls.filter((c) => c.nodeId === "r-1").map((c) => c.kind)).to.deep.equal(["cancel", "refresh"]);
    expect(backend.stacks.get("r-1")).to.include({ lock: undefined, pendingCreates: 0 });
    expect((await second.get("/v1/nodes/r-1").expect(200)).body.status).to.equal("failed");

    const update = await second.patch("/v1/nodes/r-1", { options: {} }).expect(202);
    expect((await waitForOperation(second, update.body.operation.id)).state).to.equal("succeeded");
    expect((await second.get("/v1/nodes/r-1").expect(200)).body.status).to.equal("ready");
    expect((await second.get("/readyz").expect(200)).body.checks).to.include({ recovery: "ok", store: "ok" });
  });

  it("refuses mutating calls on the node while its recover operation runs", async () => {
    const { backend, dataDir } = await crashDuringCreate("r-2");
    let hold: { release: () => void } | undefined;
    // The new process's engine holds its refresh, so the recover operation stays running.
    const second = await startTestService({ backend, dataDir, prepareEngine: (engine) => (hold = engine.holdNext("r-2", "refresh")) });
    services.push(second);
    const node = (await second.get("/v1/nodes/r-2").expect(200)).body;
    expect((await second.get(`/v1/operations/${node.lastOperationId}`).expect(200)).body).to.include({ kind: "recover", state: "running" });
    const res = await second.patch("/v1/nodes/r-2", { options: {} }).expect(409);
    expect(res.body.error.holderId).to.equal(node.lastOperationId);
    await second.del("/v1/nodes/r-2").expect(409);
    hold!.release();
    expect((await waitForOperation(second, node.lastOperationId)).state).to.equal("succeeded");
  });

  it("leaves no stack lock to a node whose operation the crash interrupted before the engine started", async () => {
    const backend = new MemoryBackend();
    const first = await startTestService({ backend, maxConcurrentOperations: 1 });
    services.push(first);
    first.engine.hangNext("r-3", "up");
    await first.post("/v1/nodes", { id: "r-3", region: "us-east-1" }).expect(202);
    const queued = await first.post("/v1/nodes", { id: "r-4", region: "us-east-1" }).expect(202);
    expect((await first.get(`/v1/operations/${queued.body.operation.id}`).expect(200)).body.state).to.equal("queued");
    await first.crash();

    const second = await startTestService({ backend, dataDir: first.dataDir });
    services.push(second);
    expect((await second.get(`/v1/operations/${queued.body.operation.id}`).expect(200)).body.state).to.equal("interrupted");
    const node = (await second.get("/v1/nodes/r-4").expect(200)).body;
    expect((await waitForOperation(second, node.lastOperationId)).state).to.equal("succeeded");
    const retry = await second.patch("/v1/nodes/r-4", { options: {} }).expect(202);
    expect((await waitForOperation(second, retry.body.operation.id)).state).to.equal("succeeded");
  });

  it("on a graceful stop cancels running operations, so the next start has nothing to recover", async () => {
    const backend = new MemoryBackend();
    const first = await startTestService({ backend });
    first.engine.holdNext("r-5", "up");
    const res = await first.post("/v1/nodes", { id: "r-5", region: "us-east-1" }).expect(202);
    await new Promise((r) => setTimeout(r, 20));
    await first.close();
    const second = await startTestService({ backend, dataDir: first.dataDir });
    services.push(second);
    expect((await second.get(`/v1/operations/${res.body.operation.id}`).expect(200)).body.state).to.equal("cancelled");
    expect(second.engine.calls).to.deep.equal([]);
    expect(backend.stacks.get("r-5")!.lock).to.equal(undefined);
    const retry = await second.patch("/v1/nodes/r-5", { options: {} }).expect(202);
    expect((await waitForOperation(second, retry.body.operation.id)).state).to.equal("succeeded");
  });
});
