import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServe } from "../../lib/cli/commands/serve";
import { main } from "../../lib/cli/main";
import { CliIo } from "../../lib/cli/io";
import { RunningServer } from "../../provisioner-service/server";
import { lazyLocalRuntime } from "../../provisioner-service/config";
import { NotFoundError } from "../../lib/errors";

function captureIo(env: NodeJS.ProcessEnv, cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd, env };
  return { io, out, err };
}

describe("compute-node serve", () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "cn-serve-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("refuses to start without a token unless --insecure-no-auth is given", async () => {
    const { io, err } = captureIo({ PATH: process.env.PATH }, dir);
    const code = await main(["node", "compute-node", "serve", "--local", "--data-dir", join(dir, "data"), "--port", "0"], io);
    expect(code).to.equal(2);
    expect(err.join("")).to.include("COMPUTE_NODE_API_TOKEN").and.include("--insecure-no-auth");
  });

  it("answers node calls with 503 saying what to install when the Pulumi engine is chosen and no Pulumi CLI is found", async () => {
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "file-token-0123456789\n", { mode: 0o600 });
    // An empty PATH and an empty engine cache (not the checkout's .engine/): no pulumi binary can be found.
    const { io, out } = captureIo({ PATH: join(dir, "empty-bin"), COMPUTE_NODE_ENGINE_DIR: join(dir, "no-engine"), PULUMI_SKIP_UPDATE_CHECK: "true" }, dir);
    let server!: RunningServer;
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const listening = new Promise<void>((ready) => {
      void runServe(
        { port: 0, host: "127.0.0.1", local: true, dataDir: join(dir, "data"), tokenFile, insecureNoAuth: false, maxConcurrentOperations: 2, nodeEngine: "pulumi" },
        io,
        { onListening: (s) => ((server = s), ready()), stopped },
      );
    });
    await listening;
    try {
      expect((await fetch(`${server.url}/healthz`)).status).to.equal(200);
      const headers = { Authorization: "Bearer file-token-0123456789", "Content-Type": "application/json" };
      const res = await fetch(`${server.url}/v1/nodes`, { method: "POST", headers, body: JSON.stringify({ id: "laptop", region: "us-east-1" }) });
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).to.include("Pulumi CLI").and.include("scripts/build-pulumi-cli.sh");
      const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { ready: boolean; checks: Record<string, string> };
      expect(ready.ready).to.equal(true);
      expect(ready.checks.runtime).to.equal("local");
      expect((await fetch(`${server.url}/v1/nodes`)).status).to.equal(401);
    } finally {
      stop();
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = out.join("").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === "listening")).to.equal(true);
    expect(out.join("")).to.not.include("file-token-0123456789");
  });

  it("refuses --node-engine local without --local, and an unknown engine, as invalid input naming the option", async () => {
    const { io, err } = captureIo({ PATH: process.env.PATH }, dir);
    const args = ["node", "compute-node", "serve", "--insecure-no-auth", "--data-dir", join(dir, "data"), "--port", "0"];
    expect(await main([...args, "--node-engine", "local"], io)).to.equal(2);
    expect(err.join("")).to.include("--node-engine local needs --local");
    expect(await main([...args, "--local", "--node-engine", "docker"], io)).to.equal(2);
    expect(err.join("")).to.include("--node-engine").and.include("auto, local, pulumi");
  });

  it("refuses a second process on the same data directory while the first runs, and lets one start after it stopped", async () => {
    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, "file-token-0123456789\n", { mode: 0o600 });
    const options = { port: 0, host: "127.0.0.1", local: true, dataDir: join(dir, "data"), tokenFile, insecureNoAuth: false, maxConcurrentOperations: 2, lockWaitSeconds: 1 };
    const env = { PATH: join(dir, "empty-bin"), PULUMI_SKIP_UPDATE_CHECK: "true" };
    const serve = () => {
      let stop!: () => void;
      const stopped = new Promise<void>((r) => (stop = r));
      let listening!: () => void;
      const ready = new Promise<void>((r) => (listening = r));
      const done = runServe(options, captureIo(env, dir).io, { onListening: () => listening(), stopped });
      return { ready, done, stop };
    };
    const first = serve();
    await first.ready;
    try {
      await runServe(options, captureIo(env, dir).io, { stopped: Promise.resolve() });
      expect.fail("a second process started on a data directory in use");
    } catch (err) {
      expect((err as Error).name).to.equal("ConflictError");
      expect((err as Error).message).to.include(join(dir, "data")).and.include("--data-dir");
    } finally {
      first.stop();
    }
    expect(await first.done).to.equal(0);
    const second = serve();
    await second.ready;
    second.stop();
    expect(await second.done).to.equal(0);
  });

  it("builds the --local runtime without loading it, and hands every call to the real one once used", async () => {
    const runtime = lazyLocalRuntime({ root: join(dir, "runtime") });
    expect(runtime.backend).to.equal("local");
    const err = await runtime.getExecution({ id: "laptop" } as never, "wi-unknown").catch((e: Error) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect(await runtime.runningExecutionOf({ id: "laptop" } as never)).to.equal(undefined);
  });
});
