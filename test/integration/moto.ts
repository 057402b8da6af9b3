import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { AwsClients } from "../../lib/runtime/aws/clients";
import { motoClients } from "./fixtures";

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

/** What a moto suite reads from `useMoto()`: in its tests, and in hooks it registers after `useMoto()`. */
export interface MotoSession {
  readonly endpoint: string;
  /** Fresh for every test, so each test sees only its own `mutations.calls`. */
  readonly clients: AwsClients;
  /** Forgets every resource mid-test (each test already starts from a reset). */
  reset(): Promise<void>;
}

/**
 * Registers the hooks a moto `describe` needs (call it inside the `describe`, so the suite's
 * timeout covers the start): the server starts once for the suite and is reset before every test.
 * Hooks the suite registers afterwards run after the reset, so they can create fixtures.
 */
export function useMoto(): MotoSession {
  let moto: Moto | undefined;
  let clients: AwsClients | undefined;
  before(async () => (moto = await startMoto()));
  after(() => moto?.stop());
  beforeEach(async () => {
    await moto!.reset();
    clients = motoClients(moto!.endpoint);
  });
  // A plain `undefined` here would surface later as an unrelated TypeError inside the SDK.
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useMoto(): read inside a test, or a hook registered after useMoto()");
    return value;
  };
  return {
    get endpoint() {
      return ready(moto).endpoint;
    },
    get clients() {
      return ready(clients);
    },
    reset: () => ready(moto).reset(),
  };
}

/** How {@link launchMoto} starts the server. */
export interface LaunchMotoOptions {
  /** Arguments of python3 before moto.server's own. @default ["-m", "moto.server"] */
  script?: string[];
  /** Who needs moto, for the error when python3 cannot import it. @default "integration tests" */
  purpose?: string;
  /** @default 20000 */
  readyWithinMs?: number;
}

/** Starts moto's server (python3 with moto) on a free loopback port, configured, once it answers. */
export async function launchMoto(options: LaunchMotoOptions = {}): Promise<Moto> {
  const script = options.script ?? ["-m", "moto.server"];
  const readyWithinMs = options.readyWithinMs ?? 20_000;
  const probe = spawnSync("python3", ["-c", "import moto.server"], { encoding: "utf8" });
  if (probe.status !== 0)
    throw new Error(`${options.purpose ?? "integration tests"} need python3 with moto[server] (pip install 'moto[server]==5.2.1'): ${probe.error?.message ?? probe.stderr.trim().split("\n").pop()}`);
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
  const child: ChildProcess = spawn("python3", [...script, "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
    if (process.env.MOTO_DEBUG) process.stderr.write(d);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let ready = false;
  for (let i = 0; i < readyWithinMs / 50 && !ready; i++) {
    if (child.exitCode !== null) throw new Error(`moto.server exited with ${child.exitCode}: ${stderr}`);
    ready = await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    child.kill("SIGKILL");
    throw new Error(`moto.server did not answer on ${endpoint} within ${readyWithinMs / 1000} s: ${stderr}`);
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
