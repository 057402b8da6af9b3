import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

export interface Moto {
  endpoint: string;
  /** Forgets every resource (POST /moto-api/reset) and re-applies the config. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

// Lambda without Docker echoes its payload; Step Functions really interprets the machine.
const CONFIG = { lambda: { use_docker: false }, stepfunctions: { execute_state_machine: true } };

let shared: { server: Promise<Moto>; users: number; idle?: NodeJS.Timeout } | undefined;

/**
 * A moto server for one test file. Files that run one after another in the same mocha process
 * share one server (each test resets it), which saves a Python start per file; the server is
 * killed once no file has used it for a moment, and always when the process exits.
 */
export async function startMoto(): Promise<Moto> {
  if (!shared) {
    const server = launchMoto();
    shared = { server, users: 0 };
    server.catch(() => (shared = undefined));
  }
  const current = shared;
  current.users++;
  clearTimeout(current.idle);
  const moto = await current.server;
  let released = false;
  return {
    endpoint: moto.endpoint,
    reset: () => moto.reset(),
    async stop() {
      if (released) return;
      released = true;
      if (--current.users > 0) return;
      current.idle = setTimeout(() => {
        if (shared === current && current.users === 0) shared = undefined;
        void moto.stop();
      }, 1500);
      current.idle.unref();
    },
  };
}

/** Starts `python3 -m moto.server` on a free loopback port and waits until it answers. */
async function launchMoto(): Promise<Moto> {
  const probe = spawnSync("python3", ["-c", "import moto.server"], { encoding: "utf8" });
  if (probe.status !== 0)
    throw new Error(`integration tests need python3 with moto[server] (pip install 'moto[server]==5.2.1'): ${probe.error?.message ?? probe.stderr.trim().split("\n").pop()}`);
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
  const child: ChildProcess = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
    if (process.env.MOTO_DEBUG) process.stderr.write(d);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let ready = false;
  for (let i = 0; i < 400 && !ready; i++) {
    if (child.exitCode !== null) throw new Error(`moto.server exited with ${child.exitCode}: ${stderr}`);
    ready = await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    child.kill("SIGKILL");
    throw new Error(`moto.server did not answer on ${endpoint} within 20 s: ${stderr}`);
  }
  const configure = async () => {
    const res = await fetch(`${endpoint}/moto-api/config`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(CONFIG) });
    if (!res.ok) throw new Error(`moto config failed: ${res.status}`);
  };
  await configure();
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  return {
    endpoint,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      await configure();
    },
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Creates an IAM role through moto's query API (no IAM client is installed); returns its ARN. */
export async function createRole(endpoint: string, name: string, service: string): Promise<string> {
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
  const body = new URLSearchParams({ Action: "CreateRole", Version: "2010-05-08", RoleName: name, AssumeRolePolicyDocument: policy });
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x" },
    body,
  });
  const text = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!arn) throw new Error(`moto CreateRole failed: ${res.status} ${text.slice(0, 300)}`);
  return arn;
}
