import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { packageRoot } from "../package-root";


/** What a Lambda handler may import besides relative files: the Node.js runtime and the SDK the Lambda runtime ships. */
const RUNTIME_MODULE = /^(node:|@aws-sdk\/|@smithy\/)/;

/** An import of a handler's file graph that the Lambda runtime cannot satisfy. */
export class HandlerBundleError extends Error {
  override name = "HandlerBundleError";
}

/**
 * The Lambda code of one of this repository's handlers (`lib/integrations/<slice>/lambda`): the
 * entry and every file it imports, transitively, transpiled to CommonJS in memory (imported .json
 * data files verbatim). Anything else it imports must be a node builtin or `@aws-sdk/*` (the Lambda
 * runtime has them), so a handler that starts depending on an npm package fails here, at
 * `pulumi up`, not at its first invocation. Deterministic (sorted, no timestamps), so unchanged code
 * is no diff. The sources are read below the package root (lib/package-root.ts), so code running
 * from dist/ bundles the same files.
 */
export function handlerArchive(entry: string, root: string = packageRoot()): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.Asset> = {};
  for (const file of handlerFiles(entry, root)) {
    const source = fs.readFileSync(path.join(root, file), "utf8");
    // Data a handler imports (the cost model's price tables) ships verbatim: Node's require reads .json itself.
    if (file.endsWith(".json")) {
      assets[file] = new pulumi.asset.StringAsset(source);
      continue;
    }
    const output = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true }, fileName: file });
    assets[file.replace(/\.ts$/, ".js")] = new pulumi.asset.StringAsset(output.outputText);
  }
  return new pulumi.asset.AssetArchive(assets);
}

/** The repository-relative files (posix, sorted) a handler's entry pulls in: .ts sources and the .json files they import. */
export function handlerFiles(entry: string, root: string = packageRoot()): string[] {
  const entryFile = `${entry}.ts`;
  if (!fs.existsSync(path.join(root, entryFile))) throw new HandlerBundleError(`Lambda handler ${entryFile} is missing from ${root}: the node's functions are built from it`);
  const seen = new Set<string>();
  const queue = [entryFile];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (file.endsWith(".json")) continue;
    const source = fs.readFileSync(path.join(root, file), "utf8");
    const imports = ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
    for (const spec of imports) {
      if (RUNTIME_MODULE.test(spec)) continue;
      if (!spec.startsWith(".")) throw new HandlerBundleError(`${file} imports "${spec}", which the Lambda runtime does not have: handlers may import node builtins, @aws-sdk/* and files of this repository`);
      const target = resolveRelative(root, file, spec);
      if (!target) throw new HandlerBundleError(`${file} imports "${spec}", which resolves to no .ts or .json file`);
      queue.push(target);
    }
  }
  return [...seen].sort();
}

function resolveRelative(root: string, from: string, spec: string): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), spec);
  for (const candidate of base.endsWith(".json") ? [base] : [`${base}.ts`, `${base}/index.ts`]) if (fs.existsSync(path.join(root, candidate))) return candidate;
  return undefined;
}
