import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConflictError } from "../lib/errors";
import { AutomationStackEngine } from "../lib/provision/automation-engine";
import { LocalWorkflowRuntime } from "../lib/provision/local-runtime";
import { NodeSpec } from "../lib/provision/stack-engine";
import { jsonLogger } from "../provisioner-service/logger";
import { buildService, RunningServer, startServer } from "../provisioner-service/server";
import { EngineTierEnv, realEngine } from "./fixture";

const cliRoot = process.env.PULUMI_CLI_ROOT;
const spec = (id: string, options: Record<string, unknown> = {}): NodeSpec => ({ id, mode: "basic", region: "us-east-1", options });

describe("AutomationStackEngine with the real Pulumi CLI and a file backend", function () {
  this.timeout(180000);
  let env: EngineTierEnv;
  let engine: AutomationStackEngine;

  before(function () {
    if (!cliRoot) throw new Error("PULUMI_CLI_ROOT is not set: run `npm run test:engine`, which builds the CLI first");
  });
  beforeEach(async () => {
    const root = await mkdtemp(join(tmpdir(), "cn-engine-tier-"));
    env = { cliRoot: cliRoot!, backendDir: join(root, "backend"), dataDir: join(root, "data") };
    engine = realEngine(env);
  });

  it("creates a stack from the inline program and reads its outputs, secrets marked", async () => {
    await engine.ensureAvailable();
    const events: string[] = [];
    const result = await engine.up(spec("tier-1"), { onEvent: (e) => events.push(e.type) });
    expect(result.resourceChanges).to.deep.equal({ create: 1 });
    expect(result.outputs.computeNodeId).to.deep.equal({ value: "tier-1", secret: false });
    expect(result.outputs.region).to.deep.equal({ value: "us-east-1", secret: false });
    expect(result.outputs.apiKey).to.deep.equal({ value: undefined, secret: true });
    expect(events).to.include.members(["resource-pre", "resource-outputs", "summary"]);
    expect(JSON.stringify(events)).to.not.include("s3cr3t");
    // The work directory is gone; the stack lives on in the backend.
    expect(await readdir(join(env.dataDir, "work"))).to.deep.equal([]);
    expect((await engine.outputs(spec("tier-1"))).generation.value).to.equal(1);
  });

  it("updates a stack, refreshes it, and destroys it (stack removed)", async () => {
    await engine.up(spec("tier-2"));
    const updated = await engine.up(spec("tier-2", { generation: 2 }));
    expect(updated.outputs.generation.value).to.equal(2);
    const refreshed = await engine.refresh(spec("tier-2"));
    expect(refreshed.outputs.generation.value).to.equal(2);
    const destroyed = await engine.destroy(spec("tier-2"));
    expect(destroyed.resourceChanges).to.deep.equal({ delete: 1 });
    const gone = await engine.outputs(spec("tier-2")).catch((e) => e);
    expect(gone.name).to.equal("NotFoundError");
  });

  it("refuses a second concurrent update of the same stack with ConflictError (ConcurrentUpdateError)", async () => {
    await engine.up(spec("tier-3"));
    const other = realEngine({ ...env, dataDir: `${env.dataDir}-other-process` });
    const slow = engine.up(spec("tier-3", { delayMs: 8000, generation: 2 }));
    await new Promise((r) => setTimeout(r, 4000));
    const second = await other.up(spec("tier-3", { generation: 3 })).catch((e) => e);
    expect(second).to.be.instanceOf(ConflictError);
    expect((await slow).outputs.generation.value).to.equal(2);
  });

  it("cancels a running update through its abort signal and leaves the stack usable", async () => {
    await engine.up(spec("tier-4"));
    const controller = new AbortController();
    const running = engine.up(spec("tier-4", { delayMs: 20000, generation: 2 }), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 4000));
    controller.abort();
    const err = await running.then(() => undefined, (e) => e);
    expect(err, "the update should have been cancelled").to.not.equal(undefined);
    const after = await engine.up(spec("tier-4", { generation: 3 }));
    expect(after.outputs.generation.value).to.equal(3);
  });

  /** Runs crash-child.ts until it is inside a stack change, then kills it and its CLI with SIGKILL. */
  async function crashDuringChange(mode: "engine" | "service", nodeId: string) {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", join(__dirname, "crash-child.ts"), mode, env.cliRoot, env.backendDir, env.dataDir, nodeId], {
      detached: true,
      stdio: ["ignore", "pipe", "inherit"],
      cwd: join(__dirname, ".."),
    });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("RUNNING")) resolve();
        if (out.includes("FAILED") || out.includes("FINISHED")) reject(new Error(`child ended early: ${out}`));
      });
      child.once("exit", (code) => reject(new Error(`child exited ${code}: ${out}`)));
    });
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
  }

  it("recovers after a crash mid-update: the left-over lock refuses updates until cancel + refresh release it", async () => {
    await engine.up(spec("tier-5"));
    await crashDuringChange("engine", "tier-5");
    const locked = await engine.up(spec("tier-5", { generation: 3 })).catch((e) => e);
    expect(locked).to.be.instanceOf(ConflictError);
    await engine.cancel(spec("tier-5"));
    await engine.refresh(spec("tier-5"), { clearPendingCreates: true });
    const after = await engine.up(spec("tier-5", { generation: 4 }));
    expect(after.outputs.generation.value).to.equal(4);
  });

  it("restarts the service after it was killed mid-update: interrupted operation, recover operation, node usable", async () => {
    const first = buildService({ dataDir: env.dataDir, auth: { disabled: true }, logger: jsonLogger(() => undefined), engine, runtime: new LocalWorkflowRuntime({ root: join(env.dataDir, "runtime") }) });
    await first.recover();
    const created = await first.deps.nodes.create({ id: "tier-6", mode: "basic", region: "us-east-1", options: {} });
    expect((await first.deps.manager.settled(created.operation.id)).state).to.equal("succeeded");

    await crashDuringChange("service", "tier-6");

    const second = buildService({ dataDir: env.dataDir, auth: { disabled: true }, logger: jsonLogger(() => undefined), engine: realEngine(env), runtime: new LocalWorkflowRuntime({ root: join(env.dataDir, "runtime") }) });
    await second.recover();
    const node = await second.deps.nodes.get("tier-6");
    const interrupted = (await second.deps.manager.get(node.lastOperationId!)).recoversOperationId!;
    expect((await second.deps.manager.get(interrupted)).state).to.equal("interrupted");
    const recovery = await second.deps.manager.settled(node.lastOperationId!);
    expect(recovery).to.include({ kind: "recover", state: "succeeded" });
    const update = await second.deps.nodes.update("tier-6", { options: { generation: 5 } });
    expect((await second.deps.manager.settled(update.operation.id)).state).to.equal("succeeded");
    const after = await second.deps.nodes.get("tier-6");
    expect(after).to.include({ status: "ready" });
    expect(after.outputs!.generation).to.equal(5);
  });

  it("serves the API over the real engine: create, concurrent update → 409, cancel, destroy", async () => {
    const logs: string[] = [];
    const service = buildService({
      dataDir: env.dataDir,
      auth: { token: "engine-tier-token-123456" },
      logger: jsonLogger((l) => logs.push(l)),
      engine: realEngine(env),
      runtime: new LocalWorkflowRuntime({ root: join(env.dataDir, "runtime") }),
    });
    const server: RunningServer = await startServer(service, { port: 0, host: "127.0.0.1" }, jsonLogger(() => undefined));
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, { method, headers: { Authorization: "Bearer engine-tier-token-123456", "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
    const waitFor = async (opId: string) => {
      for (;;) {
        const op = (await (await call("GET", `/v1/operations/${opId}`)).json()) as { state: string };
        if (!["queued", "running"].includes(op.state)) return op;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    try {
      const created = await call("POST", "/v1/nodes", { id: "tier-http", region: "us-east-1" });
      expect(created.status).to.equal(202);
      const createOp = ((await created.json()) as { operation: { id: string } }).operation.id;
      expect((await waitFor(createOp)).state).to.equal("succeeded");
      const node = (await (await call("GET", "/v1/nodes/tier-http")).json()) as { status: string; outputs: Record<string, unknown>; secretOutputs: string[] };
      expect(node.status).to.equal("ready");
      expect(node.outputs.computeNodeId).to.equal("tier-http");
      expect(node.secretOutputs).to.deep.equal(["apiKey"]);

      const [a, b] = await Promise.all([call("PATCH", "/v1/nodes/tier-http", { options: { delayMs: 2000 } }), call("PATCH", "/v1/nodes/tier-http", { options: { generation: 9 } })]);
      expect([a.status, b.status].sort()).to.deep.equal([202, 409]);
      const winner = ((await (a.status === 202 ? a : b).json()) as { operation: { id: string } }).operation.id;
      expect((await waitFor(winner)).state).to.equal("succeeded");

      const slow = await call("PATCH", "/v1/nodes/tier-http", { options: { delayMs: 30000 } });
      const slowOp = ((await slow.json()) as { operation: { id: string } }).operation.id;
      await new Promise((r) => setTimeout(r, 4000));
      expect((await call("POST", `/v1/operations/${slowOp}/cancel`)).status).to.equal(202);
      expect((await waitFor(slowOp)).state).to.equal("cancelled");
      const converge = await call("PATCH", "/v1/nodes/tier-http", { options: { generation: 7 } });
      const convergeOp = ((await converge.json()) as { operation: { id: string } }).operation.id;
      expect((await waitFor(convergeOp)).state).to.equal("succeeded");

      const destroyed = await call("DELETE", "/v1/nodes/tier-http");
      const destroyOp = ((await destroyed.json()) as { operation: { id: string } }).operation.id;
      expect((await waitFor(destroyOp)).state).to.equal("succeeded");
      expect(logs.join("")).to.not.include("s3cr3t");
    } finally {
      await server.close();
    }
  });

  afterEach(async () => {
    await rm(join(env.backendDir, ".."), { recursive: true, force: true });
  });
});
