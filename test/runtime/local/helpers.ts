import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolvePlan, ResolvedPlan } from "../../../lib/plan/resolve";

/** A node one-liner that copies every input entry into OUTPUT_DIR under `<prefix>-<name>`, plus `extra` files. */
export function copyScript(prefix: string, extra = ""): string[] {
  return [
    process.execPath,
    "-e",
    `const fs=require("fs"),p=require("path");const i=process.env.INPUT_DIR,o=process.env.OUTPUT_DIR;` +
      `for(const f of fs.readdirSync(i)){if(fs.statSync(p.join(i,f)).isFile())fs.writeFileSync(p.join(o,${JSON.stringify(prefix)}+"-"+f),fs.readFileSync(p.join(i,f)))}` +
      extra,
  ];
}

export interface TestProcessor {
  id: string;
  dependsOn?: string[];
  command: string[];
  computeType?: "ecs" | "lambda";
}

export function planOf(name: string, processors: TestProcessor[]): ResolvedPlan {
  return resolvePlan(
    { name, processors: processors.map((p) => ({ id: p.id, sourceUrl: `local/${p.id}`, dependsOn: p.dependsOn ?? [] })) },
    { processors: processors.map((p) => ({ sourceUrl: `local/${p.id}`, computeTypes: [p.computeType ?? "ecs"], localCommand: p.command })) },
  );
}

export async function scratch(files: Record<string, string> = { "hello.txt": "hello" }): Promise<{ root: string; input: string; workdir: string }> {
  const root = await mkdtemp(join(tmpdir(), "cn-run-"));
  const input = join(root, "input");
  await mkdir(input);
  for (const [name, text] of Object.entries(files)) await writeFile(join(input, name), text);
  return { root, input, workdir: join(root, "work") };
}
