import { cp, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CostReport, ExecutionUsage, buildCostReport } from "../../cost/report";
import { findPriceTable } from "../../cost/price-table";
import { processorUsages, secondsBetween } from "../../cost/usage";
import { RunContext } from "../../runtime/local/context";
import { LocalUsageMeter, logVolume } from "../../runtime/local/usage-meter";
import { readLocalExecutionLlmTotals } from "../llm/local";
import { LlmTotals, llmUsage } from "./cost";
import type { MissingCost } from "../../cost/report";
import { ResolvedPlan } from "../../plan/resolve";
import { stopOutstandingProcessors } from "../processor/local";
import { lambdaError, TaskError } from "../../runtime/local/task-error";

/**
 * The finalize Lambda, locally: archives the processors' logs under `<workdir>/archive/<workflowInstanceId>/`
 * and writes the cost report (docs/cost.md) a node in the run's pricing region would be charged,
 * measured as the AWS finalizer measures it.
 */
export async function localFinalize(ctx: RunContext, payload: Record<string, unknown>): Promise<unknown> {
  if (payload.workflowInstanceId !== ctx.workflowInstanceId)
    throw new TaskError("FinalizeInputError", { errorType: "FinalizeInputError", errorMessage: `finalize for "${String(payload.workflowInstanceId)}" reached execution "${ctx.workflowInstanceId}"` });
  const invokedAt = ctx.now();
  try {
    await stopOutstandingProcessors(ctx);
    const record = await ctx.store.get(ctx.executionId);
    if (!record) throw new Error(`execution record ${ctx.executionId} disappeared`);
    const archive = ctx.layout.archiveDir(ctx.workflowInstanceId);
    await mkdir(archive, { recursive: true });
    await cp(ctx.layout.logsDir(ctx.executionId), join(archive, "logs"), { recursive: true, force: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    const logs = await logVolume(ctx.layout.logsDir(ctx.executionId));
    const llm = ctx.llmUsageDir ? await readLocalExecutionLlmTotals(ctx.llmUsageDir, ctx.executionId).then((totals) => ({ totals }), (err: Error) => ({ missing: { item: "LLM (Bedrock) usage", category: "llm" as const, reason: `the local governor's usage in ${ctx.llmUsageDir} could not be read (${err.name})` } })) : undefined;
    await ctx.usage.settle();
    const usage = localCostUsage({
      plan: ctx.plan,
      computeNodeId: ctx.layout.computeNodeId,
      workflowInstanceId: ctx.workflowInstanceId,
      status: payload.status === "FAILED" ? "FAILED" : "SUCCEEDED",
      meter: ctx.usage,
      recordedStatuses: new Map(Object.entries(record.processors).map(([id, s]) => [id, s.status])),
      logs,
      startedAt: ctx.startedAt,
      invokedAt,
      now: ctx.now(),
      region: ctx.pricingRegion,
      ...(llm && "totals" in llm ? { llm: llm.totals } : {}),
      ...(llm && "missing" in llm ? { missing: [llm.missing] } : {}),
    });
    const report: CostReport = buildCostReport(usage, findPriceTable(ctx.pricingRegion));
    const reportFile = join(archive, "cost-report.json");
    await writeFile(reportFile, JSON.stringify(report, null, 2) + "\n");
    ctx.artifacts.logArchive = join(archive, "logs");
    ctx.artifacts.costReport = reportFile;
    ctx.emit({ type: "step", step: "finalize", detail: `archived logs to ${archive}; nominal cost $${report.totalUsd.toFixed(6)} (${report.region} prices ${report.pricingVersion})` });
    return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: { status: payload.status, archive, costReport: reportFile, totalUsd: report.totalUsd } };
  } catch (err) {
    throw lambdaError(err);
  }
}

export interface LocalCostUsageInput {
  plan: Pick<ResolvedPlan, "processors" | "mode" | "workflow">;
  computeNodeId: string;
  workflowInstanceId: string;
  status: "SUCCEEDED" | "FAILED";
  meter: LocalUsageMeter;
  recordedStatuses: ReadonlyMap<string, string>;
  logs: { events: number; bytes: number };
  /** When the execution (and its token secret) started. */
  startedAt: Date;
  /** When this finalize invocation started: its own duration so far is billed too. */
  invokedAt: Date;
  now: Date;
  region: string;
  /** The execution's LLM use, from the local governor (runs with LLM access). */
  llm?: LlmTotals;
  /** What finalize itself could not read. */
  missing?: MissingCost[];
}

/** A local run's usage, counted as the AWS finalizer counts an execution's (lib/integrations/finalize/cost.ts). */
export function localCostUsage(input: LocalCostUsageInput): ExecutionUsage {
  const { meter, now } = input;
  const llm = input.llm ? llmUsage(input.llm) : undefined;
  return {
    source: "local",
    computeNodeId: input.computeNodeId,
    workflowInstanceId: input.workflowInstanceId,
    workflowName: input.plan.workflow.name,
    mode: input.plan.mode,
    status: input.status,
    generatedAt: now.toISOString(),
    processors: processorUsages(input.plan.processors, meter.processorRuns(now), input.recordedStatuses),
    // The Succeed or Fail state after Finalize is still to come.
    stateTransitions: meter.stateTransitions + 1,
    functions: { ...meter.functions, finalize: [...meter.functions.finalize, (now.getTime() - input.invokedAt.getTime()) / 1000] },
    logs: input.logs,
    // CreateSecret before the run, each ResolveToken, and the deletion after Finalize.
    secretApiCalls: 1 + meter.secretApiCalls + 1,
    secretSeconds: secondsBetween(input.startedAt.toISOString(), now.toISOString()),
    ...(llm ? { llm: llm.llm } : {}),
    missing: [...(input.missing ?? []), ...(llm?.missing ?? [])],
    region: input.region,
  };
}
