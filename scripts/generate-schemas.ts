// Writes schemas/*.schema.json from the zod schemas of the files users write (lib/model/files.ts) and
// of the cost report compute-node writes (lib/cost/schema.ts).
// `--check` writes nothing and exits 1 when a committed file differs, for CI.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { renderFileJsonSchemas } from "../lib/model/files";
import { renderCostReportJsonSchema } from "../lib/cost/schema";

const dir = resolve(__dirname, "..", "schemas");
const check = process.argv.includes("--check");
let stale = 0;
mkdirSync(dir, { recursive: true });
for (const [file, text] of Object.entries({ ...renderFileJsonSchemas(), ...renderCostReportJsonSchema() })) {
  const path = join(dir, file);
  let current: string | undefined;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  if (check) {
    stale++;
    process.stderr.write(`schemas/${file} is out of date: run npm run schemas\n`);
  } else {
    writeFileSync(path, text);
    process.stdout.write(`wrote schemas/${file}\n`);
  }
}
process.exitCode = stale ? 1 : 0;
