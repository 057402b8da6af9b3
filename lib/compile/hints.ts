import { ExecutionRecord } from "../model/execution-record";

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
