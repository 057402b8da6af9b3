import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
// Handlers may import only node builtins, @aws-sdk/* (in the Lambda runtime) and these folders.
const PACKAGED_DIRS = ["lib/handlers", "lib/transfer", "lib/llm"];

/**
 * The Lambda code of this repository's handlers: every TypeScript file of the packaged folders,
 * transpiled to CommonJS in memory. Deterministic (sorted, no timestamps), so unchanged code is no diff.
 */
export function handlerArchive(entry: string, root: string = REPO_ROOT): pulumi.asset.AssetArchive {
  const entryFile = path.join(root, `${entry}.ts`);
  if (!fs.existsSync(entryFile)) throw new Error(`Lambda handler ${entry}.ts is missing from ${root}: the node's functions are built from it`);
  const assets: Record<string, pulumi.asset.Asset> = {};
  for (const file of packagedFiles(root)) {
    const source = fs.readFileSync(path.join(root, file), "utf8");
    const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file });
    assets[file.replace(/\.ts$/, ".js")] = new pulumi.asset.StringAsset(output.outputText);
  }
  return new pulumi.asset.AssetArchive(assets);
}

function packagedFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const full = path.join(root, dir);
    if (!fs.existsSync(full)) return;
    for (const entry of fs.readdirSync(full, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") && !entry.name.endsWith(".test.ts")) out.push(rel);
    }
  };
  PACKAGED_DIRS.forEach(walk);
  return out;
}
