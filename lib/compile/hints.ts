import { ValidationError, ValidationIssue } from "../errors";
import { ExecutionRecord, ExecutionRecordSchema } from "../model/execution-record";

/**
 * Expected seconds per processor from earlier executions of the same workflow: the median of the
 * durations of its successful runs (a failed or unfinished run says little about its length).
 */
export function hintsFromRecords(records: ExecutionRecord[]): Record<string, number> {
  const durations = new Map<string, number[]>();
  for (const record of records) {
    for (const [id, state] of Object.entries(record.processors)) {
      if (state.status !== "SUCCEEDED" || !state.startedAt || !state.finishedAt) continue;
      const seconds = (Date.parse(state.finishedAt) - Date.parse(state.startedAt)) / 1000;
      if (!Number.isFinite(seconds) || seconds < 0) continue;
      const list = durations.get(id);
      if (list) list.push(seconds);
      else durations.set(id, [seconds]);
    }
  }
  const hints: Record<string, number> = {};
  for (const id of [...durations.keys()].sort()) {
    const sorted = durations.get(id)!.sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    hints[id] = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
  return hints;
}

export interface ParseHintsOptions {
  /** What the value came from, the first segment of every issue's path. @default "--hints" */
  field?: string;
}

/**
 * Expected runtimes as users give them: a `{id: seconds}` object, one execution record, or an array
 * of records (the median of their successful runs). Records of another workflow are refused, since
 * their processor ids mean something else. Throws one ValidationError listing every problem.
 */
export function parseHints(value: unknown, workflowName: string, options: ParseHintsOptions = {}): Record<string, number> {
  const field = options.field ?? "--hints";
  const records = Array.isArray(value) ? value : isRecordLike(value) ? [value] : undefined;
  if (records) {
    const parsed: ExecutionRecord[] = [];
    const issues: ValidationIssue[] = [];
    records.forEach((r, i) => {
      const result = ExecutionRecordSchema.safeParse(r);
      if (!result.success) issues.push({ code: "invalid_hints", path: [field, i], message: `not an execution record: ${result.error.issues[0]?.message ?? "invalid"}` });
      else if (result.data.snapshot.workflow.name !== workflowName)
        issues.push({ code: "invalid_hints", path: [field, i], message: `execution record "${result.data.executionId}" is of workflow "${result.data.snapshot.workflow.name}", not "${workflowName}"` });
      else parsed.push(result.data);
    });
    if (issues.length) throw new ValidationError(issues);
    return hintsFromRecords(parsed);
  }
  if (typeof value !== "object" || value === null)
    throw new ValidationError([{ code: "invalid_hints", path: [field], message: "expected a JSON object of processor id → expected seconds, or execution records" }]);
  const issues: ValidationIssue[] = [];
  const hints: Record<string, number> = {};
  for (const [id, seconds] of Object.entries(value)) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0)
      issues.push({ code: "invalid_hints", path: [field, id], processorId: id, message: `expected seconds (a number ≥ 0), got ${JSON.stringify(seconds)}` });
    else hints[id] = seconds;
  }
  if (issues.length) throw new ValidationError(issues);
  return hints;
}

function isRecordLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && "executionId" in value && "processors" in value;
}
