import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { ValidationError } from "../../errors";
import type { ExecutionRecord } from "../../model/execution-record";
import type { CostLine, CostReport, MissingCost } from "../../cost/report";
import { CliCommand, CliContext, EXIT } from "../io";
import { readJsonFile } from "../../json-file";
import { runAction, writeJson } from "../action";

interface EstimateOptions {
  processors?: string;
  invocation?: string;
  hints?: string;
  records?: string;
  mode?: string;
  region: string;
  json?: boolean;
  report?: boolean;
}

interface NodeCostOptions {
  mode: string;
  config?: string;
  nodeId: string;
  region?: string;
  json?: boolean;
  logGb?: number;
  flowLogGb?: number;
  efsGb?: number;
}

const gigabytes = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("must be a number of GB, 0 or more");
  return n;
};

export const costCommand: CliCommand = {
  register(program: Command, ctx) {
    const cost = program.command("cost").description("What workflows and nodes cost, priced with the versioned tables of lib/cost/prices (docs/cost.md).");
    cost
      .command("estimate")
      .description("Estimate one successful execution of a workflow: per processor from runtime hints or earlier records (median), state transitions and the node's Lambdas from the compiled machine.")
      .argument("<workflow>", "workflow JSON file")
      .option("--processors <file>", "processors file (a JSON array of registrations, or {\"processors\": [...]}; schemas/processors.schema.json)")
      .option("--invocation <file>", "workflow invocation JSON (processorConfigs, computeTypeOverrides)")
      .option("--hints <file>", "expected runtimes: a JSON object processor id → seconds, or execution records (one or an array)")
      .option("--records <dir>", "a directory of execution records (a run's workdir/executions): the median of each processor's successful runs")
      .option("--mode <mode>", "deployment mode: basic, secure or compliant", "basic")
      .option("--region <region>", "AWS region whose prices apply", "us-east-1")
      .option("--json", 'print {"totalUsd", "lines", "pricingVersion", "region", "missing"} on stdout')
      .option("--report", "print the whole cost report (schemas/cost-report.schema.json) on stdout, per processor included")
      .action((workflow: string, opts: EstimateOptions) =>
        runAction(ctx, { json: !!(opts.json || opts.report) }, async () => {
          // Loaded here, not when the command table is built: the model, the compiler and the cost model.
          const { loadPlan } = await import("../load-inputs");
          const { parseHints } = await import("../../compile");
          const { costSummary } = await import("../../cost/report");
          const { hintsFromWorkflowRecords, estimateWorkflowCost } = await import("../../cost/workflow-cost");
          const { ExecutionRecordSchema } = await import("../../model/execution-record");
          const cwd = ctx.io.cwd;
          if (opts.hints && opts.records) throw new ValidationError([{ code: "conflicting_options", path: ["--records"], message: "pass --hints or --records, not both" }]);
          const plan = loadPlan(workflow, opts, cwd);
          const hints = opts.hints ? parseHints(readJsonFile(opts.hints, "--hints", cwd), plan.workflow.name) : opts.records ? hintsFromWorkflowRecords(readRecords(resolve(cwd, opts.records), (value) => ExecutionRecordSchema.safeParse(value)), plan.workflow.name, ["--records"]) : {};
          const report = estimateWorkflowCost({ plan, hints, region: opts.region, now: new Date() });
          if (opts.report) writeJson(ctx, report);
          else if (opts.json) writeJson(ctx, costSummary(report));
          else printEstimate(ctx, report);
          return EXIT.ok;
        }),
      );
    cost
      .command("node")
      .description("A node's fixed monthly cost before it runs anything (NAT, interface endpoints × zones, KMS keys, flow logs, log storage, EFS), from the resources its program creates.")
      .requiredOption("--mode <mode>", "deployment mode: basic, secure or compliant")
      .option("--config <file>", "node config JSON (the keys of docs/node.md); --mode overrides its mode")
      .option("--node-id <id>", "compute node id when the config has none", "estimate")
      .option("--region <region>", "AWS region (overrides the config's; default us-east-1)")
      .option("--log-gb <gb>", "GB the processors log per month (log storage and archive tiers)", gigabytes)
      .option("--flow-log-gb <gb>", "GB of VPC flow logs per month (secure, compliant)", gigabytes)
      .option("--efs-gb <gb>", "GB resident on EFS between executions", gigabytes)
      .option("--json", 'print {"totalUsd", "lines", "pricingVersion", "region", "missing", "period": "month"} on stdout')
      .action((opts: NodeCostOptions) =>
        runAction(ctx, opts, async () => {
          const file = opts.config ? (readJsonFile(opts.config, "--config", ctx.io.cwd) as Record<string, unknown>) : {};
          // Loaded here: the node program pulls in @pulumi/aws, which takes seconds to import.
          const { parseNodeConfig } = await import("../../node/config");
          const { estimateNodeCost } = await import("../../cost/node-cost");
          const config = parseNodeConfig({ computeNodeId: opts.nodeId, region: "us-east-1", ...file, ...(opts.region ? { region: opts.region } : {}), mode: opts.mode });
          const { cost } = await estimateNodeCost(config, { processorLogGb: opts.logGb, flowLogGb: opts.flowLogGb, efsGb: opts.efsGb });
          if (opts.json) writeJson(ctx, cost);
          else {
            ctx.io.stdout(`compute node "${config.computeNodeId}" (${config.mode}, ${cost.region}, prices of ${cost.pricingVersion}): ${usd(cost.totalUsd)} per month before any execution\n`);
            printLines(ctx, cost.lines);
            printMissing(ctx, cost.missing);
          }
          return EXIT.ok;
        }),
      );
  },
};

/** Every execution record under `dir` (a workdir's `executions/<id>/record.json`, or record files side by side). */
function readRecords(dir: string, parse: (value: unknown) => { success: true; data: ExecutionRecord } | { success: false }): ExecutionRecord[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    entries = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch (err) {
    throw new ValidationError([{ code: "file_unreadable", path: ["--records"], message: `cannot read the directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], { cause: err });
  }
  const records: ExecutionRecord[] = [];
  for (const entry of entries.filter((e) => e.endsWith(".json")).sort()) {
    let value: unknown;
    try {
      value = readJsonFile(join(dir, entry), "--records", dir);
    } catch {
      continue;
    }
    const parsed = parse(value);
    if (parsed.success) records.push(parsed.data);
  }
  return records;
}

/** Dollars to the cent, or to three significant digits below a cent (never in exponent form). */
const usd = (n: number) => `$${n >= 0.01 || n === 0 ? n.toFixed(2) : n.toFixed(Math.min(9, 2 - Math.floor(Math.log10(n))))}`;

function printEstimate(ctx: CliContext, report: CostReport): void {
  const out = ctx.io.stdout;
  out(`workflow "${report.workflowName}" (${report.mode}, ${report.region}, prices of ${report.pricingVersion}): ${usd(report.totalUsd)} per successful execution\n`);
  if (report.makespanSeconds !== undefined) out(`makespan under the hints: ${Math.round(report.makespanSeconds)} s\n`);
  printLines(ctx, report.lines);
  out("processors:\n");
  const width = Math.max(...report.processors.map((p) => p.processorId.length), 9);
  for (const p of report.processors) out(`  ${p.processorId.padEnd(width)}  ${p.computeType.padEnd(6)}  ${`${p.billedSeconds} s billed`.padEnd(16)}  ${usd(p.usd)}\n`);
  printMissing(ctx, report.missing);
}

function printLines(ctx: CliContext, lines: CostLine[]): void {
  const item = Math.max(...lines.map((l) => l.item.length), 4);
  for (const l of lines) ctx.io.stdout(`  ${l.category.padEnd(13)}  ${l.item.padEnd(item)}  ${`${l.quantity} ${l.unit}`.padEnd(26)}  ${usd(l.usd)}\n`);
}

function printMissing(ctx: CliContext, missing: MissingCost[]): void {
  if (!missing.length) return;
  ctx.io.stdout("not priced:\n");
  for (const m of missing) ctx.io.stdout(`  ${m.item}: ${m.reason}\n`);
}
