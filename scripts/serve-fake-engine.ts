// The provisioner API on the in-memory stack engine (no Pulumi, no AWS), for API fuzzing:
//   node -r ts-node/register/transpile-only scripts/serve-fake-engine.ts [port]
// Token: COMPUTE_NODE_API_TOKEN or "fuzz-token-0123456789".
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkflowRuntime } from "../lib/provision/local-runtime";
import { jsonLogger } from "../provisioner-service/logger";
import { buildService, startServer } from "../provisioner-service/server";
import { MemoryStackEngine } from "../test/provision/memory-engine";

const dataDir = mkdtempSync(join(tmpdir(), "cn-fuzz-"));
const logger = jsonLogger((line) => process.stderr.write(line));
const service = buildService({
  dataDir,
  auth: { token: process.env.COMPUTE_NODE_API_TOKEN ?? "fuzz-token-0123456789" },
  logger,
  engine: new MemoryStackEngine({ stepMs: 1 }),
  runtime: new LocalWorkflowRuntime({ root: join(dataDir, "runtime"), runnerOptions: { dockerReachable: async () => false } }),
});
void startServer(service, { port: Number(process.argv[2] ?? 18080), host: "127.0.0.1" }, logger).then((s) => process.stdout.write(`${s.url}\n`));
