import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { ValidationError } from "../../errors";
import type { CompiledWorkflow } from "../../compile";
import { STRUCTURE_MODES, StructureMode } from "../../compile/structure-modes";
import { CliCommand, CliContext, EXIT } from "../io";
import { runAction } from "../action";

interface CompileCliOptions {
  processors?: string;
  invocation?: string;
  mode?: string;
  hints?: string;
  structure: StructureMode;
  exactAbove?: number;
  mapMinGroup?: number;
  output?: string;
  outDir?: string;
  json?: boolean;
}

const wholeNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError("must be a whole number of at least 2");
  return n;
};

const ratioAboveOne = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError("must be a number of at least 1 (a makespan / critical path ratio)");
  return n;
};

export const compileCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("compile")
      .description(
        "Compile a workflow to Amazon States Language (what would be deployed; deploys nothing). The ASL goes to stdout or -o FILE; " +
          "a workflow too large for one machine also has child machines, written with --out-dir DIR as DIR/main.asl.json and DIR/<child>.asl.json.",
      )
      .argument("<workflow>", "workflow JSON file")
      .option("--processors <file>", "processors file (a JSON array of registrations, or {\"processors\": [...]}; schemas/processors.schema.json)")
      .option("--invocation <file>", "workflow invocation JSON (processorConfigs, computeTypeOverrides)")
      .option("--mode <mode>", "deployment mode: basic, secure or compliant", "basic")
      .option("--hints <file>", "expected runtimes: a JSON object processor id → seconds, or earlier execution records (one or an array) of this workflow")
      .addOption(new Option("--structure <structure>", "auto: the best nested-Parallel structure (series-parallel or one barrier per level), or exact mode when that structure would wait more than --exact-above allows; exact: every processor starts when its own dependencies finish (needs the node's join function)").choices(STRUCTURE_MODES).default("auto"))
      .option("--exact-above <ratio>", "in auto, compile in exact mode when the nested-Parallel makespan exceeds this multiple of the critical path (default 1.01)", ratioAboveOne)
      .option("--map-min-group <n>", "run this many or more twin processors (same image, dependencies and dependants) as one Map", wholeNumber)
      .option("-o, --output <file>", "write the main machine's ASL here instead of stdout")
      .option("--out-dir <dir>", "write main.asl.json and one <child>.asl.json per child machine here")
      .option("--json", 'machine-readable output on stdout: {"definition", "children", "stats"}, or {"files", "stats"} with --out-dir')
      // A CompileError (the workflow cannot fit Step Functions) is the user's input to change: exit 2, like every command (lib/cli/io.ts).
      .action((workflow: string, opts: CompileCliOptions) => runAction(ctx, opts, () => compileAction(ctx, workflow, opts)));
  },
};

async function compileAction(ctx: CliContext, workflow: string, opts: CompileCliOptions): Promise<number> {
  const [{ loadPlan, readJsonFile }, { compileWorkflow, parseHints }] = await Promise.all([import("../load-inputs"), import("../../compile")]);
  const cwd = ctx.io.cwd;
  const plan = loadPlan(workflow, opts, cwd);
  const hints = opts.hints ? parseHints(readJsonFile(opts.hints, "--hints", cwd), plan.workflow.name) : undefined;
  const compiled = compileWorkflow(plan, { hints, structure: opts.structure, mapMinGroup: opts.mapMinGroup, exactAbove: opts.exactAbove });
  const childCount = Object.keys(compiled.children).length;
  if (opts.outDir) {
    const dir = resolve(cwd, opts.outDir);
    const files = writeMachines(dir, compiled);
    if (opts.json) ctx.io.stdout(JSON.stringify({ files, stats: compiled.stats }, null, 2) + "\n");
    return EXIT.ok;
  }
  if (childCount > 0 && !opts.json)
    throw new ValidationError([
      { code: "child_machines_need_out_dir", path: ["--out-dir"], message: `this workflow compiles to a main machine and ${childCount} child machines: pass --out-dir DIR to write them all (or --json)` },
    ]);
  const text = opts.json ? JSON.stringify({ definition: compiled.definition, children: compiled.children, stats: compiled.stats }, null, 2) + "\n" : JSON.stringify(compiled.definition, null, 2) + "\n";
  if (opts.output) writeFileSync(resolve(cwd, opts.output), opts.json ? JSON.stringify(compiled.definition, null, 2) + "\n" : text);
  if (!opts.output || opts.json) ctx.io.stdout(text);
  return EXIT.ok;
}

function writeMachines(dir: string, compiled: CompiledWorkflow): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, value: unknown) => {
    const file = join(dir, `${name}.asl.json`);
    writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
    files.push(file);
  };
  write("main", compiled.definition);
  for (const [child, machine] of Object.entries(compiled.children)) write(child, machine);
  return files;
}
