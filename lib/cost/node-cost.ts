import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { packageRoot } from "../package-root";
import { ComputeNodeError, ValidationError, ValidationIssue } from "../errors";
import type { NodeConfig } from "../node/config";
import type { SynthResource } from "../node/synth";
import { MonthlyAssumptions, NodeMonthlyCost, NodeMonthlyResult, nodeMonthlyCost } from "./node-monthly";
import { priceTableFor } from "./price-table";

export interface NodeCostResult extends NodeMonthlyResult {
  resources: SynthResource[];
}

/**
 * A node's fixed monthly cost, from the resources its program would create: the program runs
 * offline under Pulumi mocks (`synthNode`), so the lines are the program's own resources. Loads
 * @pulumi lazily. Pulumi's mocks are process-global: a process that also runs real Pulumi programs
 * (the provisioning service) uses {@link nodeMonthlyCostInChildProcess} instead.
 */
export async function estimateNodeCost(config: NodeConfig, assumptions: Partial<MonthlyAssumptions> = {}): Promise<NodeCostResult> {
  const prices = priceTableFor(config.region, ["region"]);
  const { synthNode } = await import("../node/synth");
  const { resources, outputs } = await synthNode(config);
  const logGroupName = typeof outputs.logGroupName === "string" ? outputs.logGroupName : undefined;
  return { ...nodeMonthlyCost({ resources, prices, assumptions, processorLogGroupName: logGroupName }), resources };
}

export interface ChildProcessOptions {
  /** @default 180000 */
  timeoutMs?: number;
  /** The repository whose `bin/compute-node.js` runs the synthesis. @default this checkout */
  root?: string;
}

const REPO_ROOT = packageRoot();

/**
 * {@link estimateNodeCost} in a child process (`compute-node cost node --json`), for a process whose
 * Pulumi runtime must not be switched to mocks. `config` is the unparsed node config: the child
 * validates it, and its ValidationError comes back as one.
 */
export async function nodeMonthlyCostInChildProcess(config: Record<string, unknown>, assumptions: Partial<MonthlyAssumptions> = {}, options: ChildProcessOptions = {}): Promise<NodeMonthlyCost> {
  const dir = await mkdtemp(join(tmpdir(), "cn-node-cost-"));
  try {
    const file = join(dir, "node.json");
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    const args = [join(options.root ?? REPO_ROOT, "bin", "compute-node.js"), "cost", "node", "--mode", String(config.mode ?? "basic"), "--config", file, "--json"];
    if (assumptions.processorLogGb !== undefined) args.push("--log-gb", String(assumptions.processorLogGb));
    if (assumptions.flowLogGb !== undefined) args.push("--flow-log-gb", String(assumptions.flowLogGb));
    if (assumptions.efsGb !== undefined) args.push("--efs-gb", String(assumptions.efsGb));
    const stdout = await new Promise<string>((done, fail) => {
      // stderr is never data (the AWS SDK prints deprecation warnings there); stdout is the JSON answer or error.
      execFile(process.execPath, args, { timeout: options.timeoutMs ?? 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, out) => {
        if (err && !out) fail(new ComputeNodeError("node_cost_failed", `synthesizing the node to price it failed: ${err.message}`, { cause: err }));
        else done(out);
      });
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch (err) {
      throw new ComputeNodeError("node_cost_failed", "synthesizing the node to price it printed no JSON", { cause: err });
    }
    const error = (parsed as { error?: { code?: string; message?: string; issues?: ValidationIssue[] } }).error;
    if (error) throw error.issues ? new ValidationError(error.issues) : new ComputeNodeError(error.code ?? "node_cost_failed", error.message ?? "pricing the node failed");
    return parsed as NodeMonthlyCost;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
