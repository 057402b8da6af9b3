// Starts a long stack change and reports when the engine is inside it; the test then kills this
// process group with SIGKILL (CLI included), leaving the stack lock behind as a crashed service would.
//   engine <cliRoot> <backendDir> <dataDir> <nodeId>   a bare engine.up
//   service <cliRoot> <backendDir> <dataDir> <nodeId>  a PATCH through the service (operation persisted)
import { LocalWorkflowRuntime } from "../lib/provision/local-runtime";
import { jsonLogger } from "../provisioner-service/logger";
import { buildService } from "../provisioner-service/server";
import { realEngine } from "./fixture";

const [mode, cliRoot, backendDir, dataDir, nodeId] = process.argv.slice(2);
const engine = realEngine({ cliRoot, backendDir, dataDir });
const slow = { delayMs: 120000, generation: 2 };
let told = false;
const tell = (type: string) => {
  if (!told && type === "resource-pre") {
    told = true;
    process.stdout.write("RUNNING\n");
  }
};

async function main() {
  if (mode === "engine") {
    await engine.up({ id: nodeId, mode: "basic", region: "us-east-1", options: slow }, { onEvent: (e) => tell(e.type) });
    return;
  }
  const service = buildService({ dataDir, auth: { disabled: true }, logger: jsonLogger(() => undefined), engine, runtime: new LocalWorkflowRuntime({ root: `${dataDir}/runtime` }) });
  await service.recover();
  const { operation } = await service.deps.nodes.update(nodeId, { options: slow });
  await service.deps.manager.watch(operation.id, 0, (e) => tell(e.type));
  await service.deps.manager.settled(operation.id);
}

main().then(
  () => process.stdout.write("FINISHED\n"),
  (err) => process.stdout.write(`FAILED ${err}\n`),
);
