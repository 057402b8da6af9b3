import { expect } from "chai";
import { ChildProcess, spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeClustersCommand } from "@aws-sdk/client-ecs";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { ROOT, motoEnv } from "./harness";
import { compare, inventory, sdk, Sdk } from "./inventory";
import { startMoto, Moto } from "./moto";

const TOKEN = "engine-e2e-token-0123456789abcdef";

/**
 * The provisioning service (`compute-node serve --local`: local state backend) over the real
 * Automation API, the CLI and the AWS provider engine:build made, against moto: create → ready with
 * the engine's events on the SSE stream, a concurrent update refused with 409, destroy.
 */
describe("engine e2e: the provisioning service drives the same engine", function () {
  this.timeout(30 * 60_000);
  let moto: Moto;
  let c: Sdk;
  let server: ChildProcess;
  let base: string;
  let log: string;
  let baseline: string[];
  const nodeId = "e2e-svc";

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  /** Reads an operation's SSE stream to its end (`operation-finished`): every message's event type and data. */
  async function events(operationId: string) {
    const res = await fetch(`${base}/v1/operations/${operationId}/events`, { headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" } });
    expect(res.status).to.equal(200);
    expect(res.headers.get("content-type")).to.match(/^text\/event-stream/);
    const text = await res.text();
    const field = (m: string, name: string) => m.split("\n").find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();
    // Messages without data (comments, keep-alives, retry hints) carry no event.
    return text
      .split("\n\n")
      .filter((m) => field(m, "data") !== undefined)
      .map((m) => ({ id: Number(field(m, "id")), event: field(m, "event")!, data: JSON.parse(field(m, "data")!) }));
  }

  before(async () => {
    moto = await startMoto();
    await moto.reset();
    c = sdk(moto.endpoint);
    baseline = await inventory(c);
    const dir = await mkdtemp(join(tmpdir(), "cn-e2e-svc-"));
    log = join(dir, "service.log");
    console.log(`      (service log: ${log})`);
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [join(ROOT, "bin", "compute-node.js"), "serve", "--local", "--port", String(port), "--data-dir", join(dir, "data")], {
      env: motoEnv(moto.endpoint, { COMPUTE_NODE_API_TOKEN: TOKEN }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.on("data", (d) => appendFileSync(log, d));
    server.stderr!.on("data", (d) => appendFileSync(log, d));
    // Loading the CLI (ts-node) and the service takes seconds, minutes on a busy machine.
    for (let i = 0; i < 1800; i++) {
      if (server.exitCode !== null) throw new Error(`serve exited with ${server.exitCode}; see ${log}`);
      if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`serve did not answer on ${base} within 3 minutes; see ${log}`);
  });
  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
    }
    await moto?.stop();
  });

  it("create → ready with the engine's events on the SSE stream; a concurrent update gets 409", async () => {
    const created = await api("POST", "/v1/nodes", { id: nodeId, mode: "basic", region: "us-east-1", options: { environment: "e2e" } });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const operationId = created.body.operation.id;
    const busy = await api("PATCH", `/v1/nodes/${nodeId}`, { options: { environment: "e2e", enableLLMAccess: true } });
    expect(busy.status, JSON.stringify(busy.body)).to.equal(409);
    expect(busy.body.error.holderId).to.equal(operationId);

    const stream = await events(operationId);
    const types = stream.map((e) => e.event);
    expect(types[0]).to.equal("operation-queued");
    expect(types.at(-1)).to.equal("operation-finished");
    expect(stream.at(-1)!.data.state, JSON.stringify(stream.at(-1)!.data)).to.equal("succeeded");
    expect(stream.map((e) => e.id)).to.deep.equal(stream.map((_, i) => i + 1));
    const created_ = stream.filter((e) => e.event === "resource-outputs" && e.data.op === "create").map((e) => e.data.resourceType);
    expect(created_, "resources the engine reported created").to.include.members(["aws:ecs/cluster:Cluster", "aws:efs/fileSystem:FileSystem", "aws:lambda/function:Function", "aws:s3/bucket:Bucket"]);
    expect(types).to.include("summary");
    // Changed property names may be listed (`diffs`), their values never: no policy document, no ARN of an output.
    const leaking = (text: string) => stream.filter((e) => JSON.stringify(e).includes(text)).map((e) => JSON.stringify(e).slice(0, 600));
    expect(leaking("sts:AssumeRole"), "events carrying a resource input value").to.deep.equal([]);
    expect(leaking("arn:aws:ecs:"), "events carrying a resource output value").to.deep.equal([]);

    const node = await api("GET", `/v1/nodes/${nodeId}`);
    expect(node.status).to.equal(200);
    expect(node.body.status).to.equal("ready");
    const outputs = node.body.outputs;
    expect(outputs.computeNodeId).to.equal(nodeId);
    // Read back from moto, not from the service.
    const [cluster] = (await c.ecs.send(new DescribeClustersCommand({ clusters: [outputs.clusterArn] }))).clusters!;
    expect(cluster.status).to.equal("ACTIVE");
    expect((await c.lambda.send(new GetFunctionCommand({ FunctionName: outputs.dataTransferFunctionArn }))).Configuration?.FunctionName).to.equal(`cn-${nodeId}-data-transfer`);
  });

  it("destroy removes the node (its archive bucket retained) and the stream ends with the engine's deletes", async () => {
    const destroyed = await api("DELETE", `/v1/nodes/${nodeId}`);
    expect(destroyed.status, JSON.stringify(destroyed.body)).to.equal(202);
    const stream = await events(destroyed.body.operation.id);
    expect(stream.at(-1)!.data.state, JSON.stringify(stream.at(-1)!.data)).to.equal("succeeded");
    expect(stream.filter((e) => e.event === "resource-pre" && e.data.op === "delete").length, "deletes reported").to.be.greaterThan(20);
    expect((await api("GET", `/v1/nodes/${nodeId}`)).status).to.equal(404);
    const left = compare(baseline, await inventory(c)).added;
    expect(left.filter((x) => !/^s3:bucket:cn-e2e-svc-logs-/.test(x)), "left after the service's destroy").to.deep.equal([]);
    expect(left.filter((x) => /^s3:bucket:/.test(x))).to.have.length(1);
  });
});
