import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import * as ts from "typescript";
import { handlerFiles } from "../../lib/node/handler-archive";

const ROOT = resolve(__dirname, "../..");
const LIB = join(ROOT, "lib");
const INTEGRATIONS = join(LIB, "integrations");
/** Modules without imports of their own, which contracts (and so Lambda payload parsers) may share. */
const DEPENDENCY_FREE = new Set([join(LIB, "errors.ts"), join(LIB, "model", "id-patterns.ts")]);
/** The files of a slice that code outside it may import (docs/architecture.md); aws.ts holds SDK calls its Lambda and lib/runtime/aws share. */
const PUBLIC_FILES = new Set(["contract.ts", "asl.ts", "lambda.ts", "local.ts", "node.ts", "aws.ts"]);

const slices = readdirSync(INTEGRATIONS).filter((name) => statSync(join(INTEGRATIONS, name)).isDirectory());

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Every relative import of a file, resolved to an absolute .ts path. */
function relativeImports(file: string): string[] {
  const specs = ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map((f) => f.fileName);
  return specs.filter((s) => s.startsWith(".")).map((s) => {
    const base = resolve(dirname(file), s);
    return [`${base}.ts`, join(base, "index.ts")].find((c) => { try { return statSync(c).isFile(); } catch { return false; } }) ?? base;
  });
}

const sliceOf = (file: string) => (file.startsWith(INTEGRATIONS + sep) ? relative(INTEGRATIONS, file).split(sep)[0] : undefined);
const show = (file: string) => relative(ROOT, file);

describe("integration slices (lib/integrations/<name>)", () => {
  it("has one folder for each Step Functions integration", () => {
    expect(slices).to.include.members(["tokens", "transfer", "join", "finalize", "processor", "child", "llm"]);
  });

  it("keeps each slice's internals to itself: other code imports only contract, asl, lambda, local, node and aws files", () => {
    const offenders: string[] = [];
    for (const file of tsFiles(LIB)) {
      for (const target of relativeImports(file)) {
        const slice = sliceOf(target);
        if (!slice || sliceOf(file) === slice) continue;
        if (!PUBLIC_FILES.has(relative(join(INTEGRATIONS, slice), target))) offenders.push(`${show(file)} → ${show(target)}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });

  it("keeps contracts dependency-free: a contract imports only lib/errors.ts, lib/model/id-patterns.ts and other contracts", () => {
    const offenders: string[] = [];
    for (const slice of slices) {
      const contract = join(INTEGRATIONS, slice, "contract.ts");
      try { statSync(contract); } catch { continue; }
      const specs = ts.preProcessFile(readFileSync(contract, "utf8"), true, true).importedFiles.map((f) => f.fileName);
      for (const spec of specs.filter((s) => !s.startsWith("."))) offenders.push(`${show(contract)} → ${spec}`);
      for (const target of relativeImports(contract)) if (!DEPENDENCY_FREE.has(target) && !target.endsWith(`${sep}contract.ts`)) offenders.push(`${show(contract)} → ${show(target)}`);
    }
    expect(offenders).to.deep.equal([]);
  });

  it("bundles every slice's Lambda handler from node builtins, @aws-sdk/* and repository files only", () => {
    const handlers = slices.filter((s) => { try { return statSync(join(INTEGRATIONS, s, "lambda.ts")).isFile(); } catch { return false; } });
    expect(handlers).to.include.members(["transfer", "finalize", "join"]);
    for (const slice of handlers) expect(() => handlerFiles(`lib/integrations/${slice}/lambda`, ROOT), slice).to.not.throw();
  });

  it("keeps the AWS runtime apart from the local runner and from Lambda handlers", () => {
    const offenders: string[] = [];
    for (const file of tsFiles(join(LIB, "runtime", "aws"))) {
      for (const target of relativeImports(file)) {
        if (target.startsWith(join(LIB, "runtime", "local") + sep) || (sliceOf(target) && (target.endsWith(`${sep}lambda.ts`) || target.endsWith(`${sep}local.ts`)))) offenders.push(`${show(file)} → ${show(target)}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });

  it("lets the CLI reach a runtime only through its public index", () => {
    const indexes = new Set([join(LIB, "runtime", "local", "index.ts"), join(LIB, "runtime", "aws", "index.ts")]);
    const offenders: string[] = [];
    for (const file of tsFiles(join(LIB, "cli"))) {
      for (const target of relativeImports(file)) if (target.startsWith(join(LIB, "runtime") + sep) && !indexes.has(target)) offenders.push(`${show(file)} → ${show(target)}`);
    }
    expect(offenders).to.deep.equal([]);
  });

  it("keeps library code out of the CLI's command files: what a command runs with is an export of lib/", () => {
    // Functions other commands or the service need (loadNode, loadExecutionRecord, parseHints) once lived here.
    const offenders: string[] = [];
    for (const file of tsFiles(join(LIB, "cli", "commands"))) {
      for (const other of tsFiles(LIB)) if (!other.startsWith(join(LIB, "cli") + sep) && relativeImports(other).includes(file)) offenders.push(`${show(other)} → ${show(file)}`);
      for (const sibling of tsFiles(join(LIB, "cli", "commands"))) if (relativeImports(sibling).includes(file)) offenders.push(`${show(sibling)} → ${show(file)}`);
    }
    expect(offenders).to.deep.equal([]);
  });
});
