import { CostReport, ExecutionUsage, MissingCost, RunUsage, buildCostReport } from "../../cost/report";
import { findPriceTable } from "../../cost/price-table";
import { PricedProcessor, processorUsages, secondsBetween } from "../../cost/usage";
import { HistoryUsage } from "./history-usage";

/** What finalize reads from the execution record (DynamoDB) to price it. */
export interface CostRecord {
  startedAt?: string;
  snapshot?: { mode?: string; workflow?: { name?: string }; resolved?: (PricedProcessor & { hash?: string })[] };
  processors?: Record<string, { status: string; startedAt?: string; finishedAt?: string; attempts?: number }>;
}

/** Log events and bytes the archive read for the execution's processors: what CloudWatch Logs ingested. */
export interface LogTally {
  events: number;
  bytes: number;
}

export interface FinalizeCostInput {
  computeNodeId: string;
  workflowInstanceId: string;
  status: "SUCCEEDED" | "FAILED";
  /** The node's region (AWS_REGION of the function): picks the price table. */
  region: string;
  record?: CostRecord;
  /** The execution's histories, when finalize could read them. */
  history?: HistoryUsage;
  historyTruncated?: boolean;
  /** Undefined when the archive could not tell the execution's own streams (the log-group fallback). */
  logs?: LogTally;
  /** The execution's LLM use, from the governor's usage table (nodes with LLM access). */
  llm?: LlmTotals;
  /** What finalize itself could not read (the LLM totals…). */
  missing?: MissingCost[];
  end: Date;
}

/** The governor's totals of one execution, as `readExecutionLlmTotals` answers them. */
export interface LlmTotals {
  calls: number;
  /** Settled cost. */
  costUsd: number;
  /** Still reserved by calls in flight. */
  reservedUsd: number;
}

/** The LLM line's usage, and a `missing` entry for what is still reserved (calls in flight when finalize ran). */
export function llmUsage(totals: LlmTotals): { llm: NonNullable<ExecutionUsage["llm"]>; missing: MissingCost[] } {
  return {
    llm: { usd: totals.costUsd, calls: totals.calls },
    missing: totals.reservedUsd > 0 ? [{ item: "LLM calls in flight", category: "llm", reason: `$${totals.reservedUsd} was still reserved by unsettled calls when the report was made` }] : [],
  };
}

const MODES = new Set(["basic", "secure", "compliant"]);

/**
 * The execution's usage as finalize sees it, from the histories when it could read them (every run
 * and retry, state transitions, the node's Lambdas) and otherwise from the record (one run per
 * processor, what it recorded). The Succeed or Fail state after Finalize is counted too.
 */
export function finalizeUsage(input: FinalizeCostInput): ExecutionUsage {
  const { record, history, end } = input;
  const missing: MissingCost[] = [...(input.missing ?? [])];
  const llm = input.llm ? llmUsage(input.llm) : undefined;
  if (llm) missing.push(...llm.missing);
  const resolved = record?.snapshot?.resolved ?? [];
  if (!record) missing.push({ item: "processors", category: "ecs", reason: "no execution record was found (EXECUTION_TABLE unset or the item missing): processor runs are not priced" });
  const mode = MODES.has(record?.snapshot?.mode ?? "") ? (record!.snapshot!.mode as ExecutionUsage["mode"]) : "basic";
  if (record && mode !== record.snapshot?.mode) missing.push({ item: "deployment mode", category: "other", reason: "the record names no mode: priced as basic" });

  const runs = new Map<string, RunUsage[]>();
  if (history) {
    const byHash = new Map(resolved.filter((p) => p.hash).map((p) => [p.hash!, p.id]));
    for (const [hash, list] of history.runsByHash) {
      const id = byHash.get(hash);
      if (id) runs.set(id, list);
    }
    if (input.historyTruncated) missing.push({ item: "runs past the history walk's bound", category: "other", reason: "finalize stopped reading histories at its bound (maxExecutions): later child executions and map iterations are not priced" });
  } else {
    for (const p of resolved) {
      const state = record?.processors?.[p.id];
      const seconds = state?.startedAt ? secondsBetween(state.startedAt, state.finishedAt ?? end.toISOString()) : undefined;
      if (seconds === undefined) continue;
      runs.set(p.id, [{ seconds, finished: state!.finishedAt !== undefined }]);
      if ((state!.attempts ?? 1) > 1) missing.push({ item: `earlier attempts of processor "${p.id}"`, category: p.computeType === "lambda" ? "lambda" : "ecs", reason: `the record keeps the last of ${state!.attempts} attempts only, and the history could not be read` });
    }
  }
  const statuses = new Map(Object.entries(record?.processors ?? {}).map(([id, s]) => [id, s.status]));
  const startedAt = history?.executionStartedAt?.toISOString() ?? record?.startedAt;
  const secretSeconds = secondsBetween(startedAt, end.toISOString());
  return {
    source: "aws",
    computeNodeId: input.computeNodeId,
    workflowInstanceId: input.workflowInstanceId,
    ...(record?.snapshot?.workflow?.name ? { workflowName: record.snapshot.workflow.name } : {}),
    mode,
    status: input.status,
    generatedAt: end.toISOString(),
    processors: processorUsages(resolved, runs, statuses),
    ...(history
      ? {
          stateTransitions: history.stateTransitions + 1,
          functions: history.functions,
          // CreateSecret when the execution started, each ResolveToken, and finalize's DeleteSecret.
          secretApiCalls: 1 + history.secretApiCalls + 1,
        }
      : {}),
    ...(secretSeconds !== undefined ? { secretSeconds } : {}),
    ...(input.logs ? { logs: input.logs } : {}),
    ...(llm ? { llm: llm.llm } : {}),
    missing,
    region: input.region,
  };
}

/**
 * The execution's cost report. Never throws: a region without prices or a fault in the model gives a
 * report that says what it could not price, because a report must never fail the workflow.
 */
export function finalizeCostReport(input: FinalizeCostInput): CostReport {
  try {
    return buildCostReport(finalizeUsage(input), findPriceTable(input.region));
  } catch (err) {
    return {
      reportVersion: 1,
      source: "aws",
      nominal: false,
      computeNodeId: input.computeNodeId,
      workflowInstanceId: input.workflowInstanceId,
      mode: "basic",
      status: input.status,
      generatedAt: input.end.toISOString(),
      currency: "USD",
      region: input.region,
      pricingVersion: "none",
      totalUsd: 0,
      lines: [],
      missing: [{ item: "every cost", category: "other", reason: `the cost model failed (${(err as Error).name ?? "Error"}): nothing was priced` }],
      processors: [],
    };
  }
}
