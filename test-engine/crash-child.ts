// Runs one long `up` and reports when the engine is inside it; the test then kills this process
// group with SIGKILL (CLI included), leaving the stack lock behind as a crashed service would.
import { realEngine } from "./fixture";

const [cliRoot, backendDir, dataDir, nodeId] = process.argv.slice(2);
const engine = realEngine({ cliRoot, backendDir, dataDir });
let told = false;
engine
  .up(
    { id: nodeId, mode: "basic", region: "us-east-1", options: { delayMs: 120000, generation: 2 } },
    {
      onEvent: (event) => {
        if (!told && event.type === "resource-pre") {
          told = true;
          process.stdout.write("RUNNING\n");
        }
      },
    },
  )
  .then(
    () => process.stdout.write("FINISHED\n"),
    (err) => process.stdout.write(`FAILED ${err}\n`),
  );
