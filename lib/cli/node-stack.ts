import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { packageRoot } from "../package-root";
import { Command } from "commander";
import { ValidationError } from "../errors";
import type { EngineEventBody } from "../provision/events";
import type { StackEngine, StackOutputs } from "../provision/stack-engine";
import { CliContext, EXIT } from "./io";
import { readJsonFile } from "../json-file";
import { runAction, writeJson } from "./action";

/** Options shared by `compute-node node up|preview|destroy|outputs|refresh`. */
export interface NodeStackOptions {
  mode?: string;
  config?: string;
  nodeId?: string;
  region?: string;
  stack?: string;
  backend?: string;
  dataDir: string;
  pulumiRoot?: string;
  yes?: boolean;
  json?: boolean;
  outputsFile?: string;
}

export type NodeStackVerb = "up" | "preview" | "destroy" | "outputs" | "refresh";

/** How the commands get their engine; tests swap in an in-memory one. */
export interface NodeStackDeps {
  engine?: (setup: EngineSetup) => Promise<StackEngine>;
  /** Answers a yes/no question on the terminal; undefined when there is none (then --yes is required). */
  confirm?: (question: string) => Promise<boolean>;
}

export interface EngineSetup {
  program: () => import("@pulumi/pulumi/automation").PulumiFn;
  stackName: string;
  dataDir: string;
  backend: string;
  env: NodeJS.ProcessEnv;
  pulumiRoot?: string;
  log: (line: string) => void;
}

const DEFAULT_DATA_DIR = ".compute-node/nodes";

/** Registers the stack subcommands on `compute-node node`. */
export function registerNodeStackCommands(node: Command, ctx: CliContext, deps: NodeStackDeps = {}) {
  const common = (cmd: Command, modeRequired: boolean) => {
    (modeRequired ? cmd.requiredOption("--mode <mode>", "deployment mode: basic, secure or compliant") : cmd.option("--mode <mode>", "deployment mode: basic, secure or compliant (default: the config's, else basic)"))
      .option("--config <file>", "node config JSON (the keys of docs/node.md); --mode overrides its mode")
      .option("--node-id <id>", "compute node id when the config has none")
      .option("--region <region>", "AWS region when the config has none (default: AWS_REGION)")
      .option("--stack <name>", "stack name (default: the node id)")
      .option("--backend <url>", "Pulumi state backend, e.g. s3://bucket/prefix for a team (default: file://<data-dir>/pulumi-state)")
      .option("--data-dir <dir>", "where the local state backend, stack settings and passphrase live", DEFAULT_DATA_DIR)
      .option("--pulumi-root <dir>", "directory containing bin/pulumi (default: PULUMI_CLI_ROOT, then .engine/ from `npm run engine:build`, then PATH)")
      .option("--json", "machine-readable result on stdout (engine progress still goes to stderr)");
    return cmd;
  };
  const action = (verb: NodeStackVerb) => (opts: NodeStackOptions) => runAction(ctx, opts, () => runNodeStack(verb, opts, ctx, deps));
  common(node.command("up").description("Create or update the node's stack with the real Pulumi engine (the inline program the provisioning service runs), streaming progress."), true)
    .option("--yes", "apply without asking (required without a terminal)")
    .option("--outputs-file <file>", "also write the stack outputs (node.json for deploy/start) to this file")
    .action(action("up"));
  common(node.command("preview").description("Show what `node up` would change, resource by resource (no change is made)."), true).action(action("preview"));
  common(node.command("refresh").description("Bring the stack's state in line with what exists in AWS."), true)
    .option("--yes", "accepted for symmetry; refresh changes only the state")
    .action(action("refresh"));
  common(node.command("destroy").description("Delete every resource of the node (its destroy hook first removes what the runtime registered); the log archive bucket and its key are retained."), false)
    .option("--yes", "destroy without asking (required without a terminal)")
    .action(action("destroy"));
  common(node.command("outputs").description("Print the stack outputs (the node.json that deploy, start and status read)."), false)
    .option("--outputs-file <file>", "write them to this file too")
    .action(action("outputs"));
}

/** One `compute-node node <verb>`; returns the exit code. */
export async function runNodeStack(verb: NodeStackVerb, opts: NodeStackOptions, ctx: CliContext, deps: NodeStackDeps = {}): Promise<number> {
  const { io } = ctx;
  const file = opts.config ? (readJsonFile(opts.config, "--config", io.cwd) as Record<string, unknown>) : {};
  const { parseNodeConfig } = await import("../node/config");
  const raw: Record<string, unknown> = { ...file };
  if (opts.nodeId !== undefined) raw.computeNodeId = opts.nodeId;
  if (raw.region === undefined) raw.region = opts.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (opts.mode !== undefined) raw.mode = opts.mode;
  if (raw.computeNodeId === undefined) {
    // One node per mode and data dir unless named: `node up --mode secure` and `node destroy --mode secure` meet on the same stack.
    raw.computeNodeId = defaultNodeId(typeof raw.mode === "string" ? raw.mode : "basic");
    io.stderr(`compute node id: ${raw.computeNodeId} (pass --node-id or set computeNodeId in the --config file to choose one)\n`);
  }
  if (raw.region === undefined)
    throw new ValidationError([{ code: "missing_region", path: ["--region"], message: "no region: pass --region, set region in the --config file, or set AWS_REGION" }]);
  const config = parseNodeConfig(raw);
  const dataDir = resolve(io.cwd, opts.dataDir);
  const backend = opts.backend ?? io.env.PULUMI_BACKEND_URL ?? `file://${join(dataDir, "pulumi-state")}`;
  const stackName = opts.stack ?? config.computeNodeId;
  const log = (line: string) => io.stderr(line + "\n");
  const make = deps.engine ?? defaultEngine;
  const { computeNodeProgram } = await import("../node/program");
  const engine = await make({ program: () => computeNodeProgram(config), stackName, dataDir, backend, env: io.env, pulumiRoot: opts.pulumiRoot, log });
  const spec = { id: config.computeNodeId, mode: config.mode, region: config.region, options: {} };
  const where = `stack ${stackName} (${config.mode}, ${config.region}, ${backend})`;

  const progress = new Progress(log, verb === "preview");
  const onEvent = (e: EngineEventBody & { timestamp: string }) => progress.event(e);

  switch (verb) {
    case "outputs": {
      const outputs = plainOutputs(await engine.outputs(spec));
      if (opts.outputsFile) await writeOutputs(resolve(io.cwd, opts.outputsFile), outputs);
      // The outputs are data: JSON either way, so `> node.json` works without --json.
      writeJson(ctx, outputs);
      return EXIT.ok;
    }
    case "preview": {
      log(`previewing ${where}`);
      const result = await engine.preview(spec, { onEvent });
      return report(ctx, opts, { stack: stackName, changes: result.resourceChanges, steps: progress.steps }, () => {
        for (const s of progress.steps) io.stdout(`${stepLine(s)}\n`);
        io.stdout(`${summaryLine(result.resourceChanges)}\n`);
      });
    }
    case "refresh": {
      log(`refreshing ${where}`);
      const result = await engine.refresh(spec, { onEvent });
      return report(ctx, opts, { stack: stackName, changes: result.resourceChanges }, () => io.stdout(`${summaryLine(result.resourceChanges)}\n`));
    }
    case "up":
    case "destroy": {
      const question = verb === "up" ? `apply these changes to ${where}?` : `destroy every resource of ${where} (the log archive is kept)?`;
      // Without a terminal nobody can answer: a script that ran `node up` or `node destroy` asked for it (as gcloud and kubectl do).
      if (!opts.yes && !deps.confirm) log(`no terminal to confirm on: going ahead with ${verb} (pass --yes to skip this notice)`);
      if (!opts.yes && deps.confirm) {
        if (verb === "up") {
          log(`previewing ${where}`);
          const preview = await engine.preview(spec, { onEvent: (e) => new Progress(() => undefined, true).event(e) });
          io.stderr(`${summaryLine(preview.resourceChanges)}\n`);
        }
        if (!(await deps.confirm(question))) {
          log("nothing changed");
          return EXIT.failed;
        }
      }
      log(`${verb === "up" ? "updating" : "destroying"} ${where}`);
      if (verb === "destroy") {
        const result = await engine.destroy(spec, { onEvent });
        return report(ctx, opts, { stack: stackName, changes: result.resourceChanges }, () => io.stdout(`${summaryLine(result.resourceChanges)}\nstack ${stackName} removed\n`));
      }
      const result = await engine.up(spec, { onEvent });
      const outputs = plainOutputs(result.outputs);
      if (opts.outputsFile) await writeOutputs(resolve(io.cwd, opts.outputsFile), outputs);
      return report(ctx, opts, { stack: stackName, changes: result.resourceChanges, outputs }, () => {
        io.stdout(`${summaryLine(result.resourceChanges)}\n`);
        if (opts.outputsFile) io.stdout(`outputs written to ${opts.outputsFile}\n`);
        else io.stdout("outputs: compute-node node outputs … > node.json\n");
      });
    }
  }
}

function report(ctx: CliContext, opts: NodeStackOptions, json: unknown, text: () => void): number {
  if (opts.json) writeJson(ctx, json);
  else text();
  return EXIT.ok;
}

/** Outputs as `pulumi stack output --json` prints them; secret ones are left out. */
function plainOutputs(outputs: StackOutputs): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).filter(([, o]) => !o.secret).map(([k, o]) => [k, o.value]));
}

async function writeOutputs(file: string, outputs: Record<string, unknown>) {
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, JSON.stringify(outputs, null, 2) + "\n");
}

export interface PreviewStep {
  op: string;
  type: string;
  name: string;
  diffs?: string[];
}

const OP_SYMBOL: Record<string, string> = { create: "+", update: "~", delete: "-", replace: "+-", "create-replacement": "+-", "delete-replaced": "--", same: " ", read: ">", refresh: "~", import: "=" };
const stepLine = (s: PreviewStep) => `  ${(OP_SYMBOL[s.op] ?? "?").padEnd(2)} ${s.type}  ${s.name}${s.op === "same" ? "" : ` (${s.op})`}${s.diffs?.length ? ` [${s.diffs.join(", ")}]` : ""}`;

function summaryLine(changes: Record<string, number>): string {
  const parts = Object.entries(changes).filter(([, n]) => n > 0).map(([op, n]) => `${n} ${op}`);
  return `resources: ${parts.length ? parts.join(", ") : "none"}`;
}

/** Engine progress on stderr ("where the time goes"), and the steps a preview lists. */
class Progress {
  readonly steps: PreviewStep[] = [];
  private readonly started = new Map<string, number>();
  constructor(
    private readonly log: (line: string) => void,
    private readonly quiet: boolean,
  ) {}

  event(e: EngineEventBody & { timestamp: string }) {
    const name = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    switch (e.type) {
      case "resource-pre":
        if (e.resourceType === "pulumi:pulumi:Stack" || e.resourceType.startsWith("pulumi:providers:")) return;
        if (e.op !== "same" && e.op !== "read") this.steps.push({ op: e.op, type: e.resourceType, name: name(e.urn), ...(e.diffs ? { diffs: e.diffs } : {}) });
        if (!this.quiet && e.op !== "same" && e.op !== "read") {
          this.started.set(e.urn, Date.parse(e.timestamp));
          this.log(`  ${OP_SYMBOL[e.op] ?? "?"} ${e.op} ${e.resourceType} ${name(e.urn)}…`);
        }
        return;
      case "resource-outputs": {
        const t0 = this.started.get(e.urn);
        if (!this.quiet && t0 !== undefined) this.log(`  ✓ ${e.op} ${name(e.urn)} (${((Date.parse(e.timestamp) - t0) / 1000).toFixed(1)} s)`);
        return;
      }
      case "resource-failed":
        this.log(`  ✗ ${e.op} ${e.resourceType} ${name(e.urn)} failed`);
        return;
      case "diagnostic":
        if (e.severity === "error" || e.severity === "warning") this.log(`${e.severity}: ${e.urn ? `${name(e.urn)}: ` : ""}${e.message}`);
        return;
      case "summary":
        if (!this.quiet) this.log(`engine: ${summaryLine(e.resourceChanges)}${e.durationSeconds !== undefined ? ` in ${e.durationSeconds} s` : ""}`);
        return;
      default:
        return;
    }
  }
}

/** The Automation API engine with what `engine:build` built (or the `pulumi` on PATH). */
async function defaultEngine(setup: EngineSetup): Promise<StackEngine> {
  const { discoverEngine } = await import("../provision/engine-discovery");
  const { AutomationStackEngine } = await import("../provision/automation-engine");
  const { localPassphrase } = await import("../../provisioner-service/server");
  const { CHECKOUT_ROOT_ENV } = await import("../node/checkout-root");
  const found = discoverEngine({ env: setup.env, pulumiRoot: setup.pulumiRoot });
  setup.log(`engine: ${found.description}`);
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: setup.backend,
    PULUMI_CONFIG_PASSPHRASE: await localPassphrase(setup.dataDir, setup.env),
    [CHECKOUT_ROOT_ENV]: setup.env[CHECKOUT_ROOT_ENV] ?? packageRoot(),
  };
  if (found.cliRoot) envVars.PATH = `${join(found.cliRoot, "bin")}:${setup.env.PATH ?? ""}`;
  const awsVersion = (require("@pulumi/aws/package.json") as { version: string }).version;
  return new AutomationStackEngine({
    program: () => setup.program(),
    stackName: () => setup.stackName,
    dataDir: setup.dataDir,
    cliRoot: found.cliRoot,
    pulumiHome: found.pulumiHome,
    envVars,
    // The provider engine:build made is in place already; otherwise let the CLI install it.
    plugins: found.awsPluginInstalled ? [] : [{ name: "aws", version: awsVersion }],
  });
}

/** The node id `node …` uses when neither --node-id nor the config names one. */
export function defaultNodeId(mode: string): string {
  return `node-${mode}`;
}

/** A yes/no question on the terminal, or undefined when stdin is not one. */
export function terminalConfirm(): NodeStackDeps["confirm"] {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}
