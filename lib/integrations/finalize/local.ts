import { cp, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildCostReport } from "../../runtime/local/cost";
import { RunContext } from "../../runtime/local/context";
import { stopOutstandingProcessors } from "../processor/local";
import { lambdaError, TaskError } from "../../runtime/local/task-error";

/**
 * The finalize Lambda, locally: archives the processors' logs under `<workdir>/archive/<workflowInstanceId>/`
 * and writes a cost report priced at nominal Fargate/Lambda rates.
 */
export async function localFinalize(ctx: RunContext, payload: Record<string, unknown>): Promise<unknown> {
  if (payload.workflowInstanceId !== ctx.workflowInstanceId)
    throw new TaskError("FinalizeInputError", { errorType: "FinalizeInputError", errorMessage: `finalize for "${String(payload.workflowInstanceId)}" reached execution "${ctx.workflowInstanceId}"` });
  try {
    await stopOutstandingProcessors(ctx);
    const record = await ctx.store.get(ctx.executionId);
    if (!record) throw new Error(`execution record ${ctx.executionId} disappeared`);
    const archive = ctx.layout.archiveDir(ctx.workflowInstanceId);
    await mkdir(archive, { recursive: true });
    await cp(ctx.layout.logsDir(ctx.executionId), join(archive, "logs"), { recursive: true, force: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    const lines = ctx.plan.processors.flatMap((p) => {
      const state = record.processors[p.id];
      if (!state?.startedAt || !state.finishedAt) return [];
      const durationSeconds = (Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 1000;
      return [{ processorId: p.id, computeType: p.computeType, cpu: p.cpu, memory: p.memory, durationSeconds }];
    });
    const report = buildCostReport(ctx.workflowInstanceId, lines);
    const reportFile = join(archive, "cost-report.json");
    await writeFile(reportFile, JSON.stringify(report, null, 2) + "\n");
    ctx.artifacts.logArchive = join(archive, "logs");
    ctx.artifacts.costReport = reportFile;
    ctx.emit({ type: "step", step: "finalize", detail: `archived logs to ${archive}; nominal cost $${report.totalUsd.toFixed(6)}` });
    return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: { status: payload.status, archive, costReport: reportFile, totalUsd: report.totalUsd } };
  } catch (err) {
    throw lambdaError(err);
  }
}
