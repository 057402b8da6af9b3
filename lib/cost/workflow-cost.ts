import { ValidationError } from "../errors";
import { compileWorkflow } from "../compile/compile";
import { hintsFromRecords } from "../compile/hints";
import { ExecutionRecord } from "../model/execution-record";
import type { ResolvedPlan } from "../plan/resolve";
import { estimateExecutionCost } from "./estimate";
import { priceTableFor } from "./price-table";
import { CostReport } from "./report";

export interface WorkflowCostOptions {
  plan: ResolvedPlan;
  /** Expected seconds per processor id; a processor without one is `missing` in the estimate. */
  hints?: Readonly<Record<string, number>>;
  /** @default "us-east-1" */
  region?: string;
  now: Date;
  computeNodeId?: string;
}

/**
 * What one successful execution of a workflow would cost on a node in `region`: compiled as the
 * runtime compiles it (with the hints, so the structure and makespan are the ones a run gets) and
 * priced through the one cost model. A region without a price table is a ValidationError.
 */
export function estimateWorkflowCost(options: WorkflowCostOptions): CostReport {
  const prices = priceTableFor(options.region ?? "us-east-1", ["region"]);
  const hints = options.hints ?? {};
  const compiled = compileWorkflow(options.plan, Object.keys(hints).length ? { hints: { ...hints } } : {});
  return estimateExecutionCost({ plan: options.plan, compiled, hints, prices, generatedAt: options.now.toISOString(), computeNodeId: options.computeNodeId });
}

/**
 * Runtime hints from earlier execution records (the median of each processor's successful runs),
 * keeping only this workflow's records; none of them is a ValidationError at `path`.
 */
export function hintsFromWorkflowRecords(records: readonly ExecutionRecord[], workflowName: string, path: (string | number)[]): Record<string, number> {
  const own = records.filter((r) => r.snapshot.workflow.name === workflowName);
  if (!own.length)
    throw new ValidationError([
      {
        code: "no_records",
        path,
        message: `${path.join(".")} holds no execution record of workflow "${workflowName}" (${records.length} record${records.length === 1 ? "" : "s"} of other workflows): run it once (compute-node run), or give runtime hints instead`,
      },
    ]);
  return hintsFromRecords(own);
}
