import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export interface Moto {
  endpoint: string;
  /** Forgets every resource (POST /moto-api/reset) and re-applies the config. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

// Lambda without Docker echoes its payload; Step Functions really interprets the machine.
const CONFIG = { lambda: { use_docker: false }, stepfunctions: { execute_state_machine: true } };
const SHIM = join(__dirname, "moto_shim.py");

/** moto's server (through moto_shim.py) on a free loopback port, configured like the integration tests'. */
export async function startMoto(): Promise<Moto> {
  const probe = spawnSync("python3", ["-c", "import moto.server"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`the engine tier needs python3 with moto[server] (pip install 'moto[server]==5.2.1'): ${probe.stderr.trim().split("\n").pop()}`);
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
  const child: ChildProcess = spawn("python3", [SHIM, "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr = (stderr + d).slice(-8000);
    if (process.env.MOTO_DEBUG) process.stderr.write(d);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  let ready = false;
  for (let i = 0; i < 600 && !ready; i++) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr}`);
    ready = await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 50));
  }
  if (!ready) {
    child.kill("SIGKILL");
    throw new Error(`moto did not answer on ${endpoint} within 30 s: ${stderr}`);
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
