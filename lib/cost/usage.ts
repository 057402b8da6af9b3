import { ProcessorCostStatus, ProcessorUsage, RunUsage } from "./report";

/** A processor as the execution record's snapshot (or a resolved plan) describes it. */
export interface PricedProcessor {
  id: string;
  computeType: string;
  cpu: number;
  memory: number;
  /** GiB; absent in records written before the snapshot kept it. @default 20 */
  ephemeralStorage?: number;
  gpu?: number;
}

/**
 * One ProcessorUsage per processor of the snapshot, in its order: the runs measured for it and its
 * status (the record's, else what its last run says). Shared by every producer so they agree.
 */
export function processorUsages(processors: readonly PricedProcessor[], runs: ReadonlyMap<string, readonly RunUsage[]>, statuses: ReadonlyMap<string, string> = new Map()): ProcessorUsage[] {
  return processors.map((p) => {
    const own = [...(runs.get(p.id) ?? [])];
    return {
      processorId: p.id,
      computeType: p.computeType === "lambda" ? "lambda" : "ecs",
      vcpu: p.cpu,
      memoryMiB: p.memory,
      ephemeralStorageGiB: p.ephemeralStorage ?? 20,
      gpu: p.gpu ?? 0,
      status: statusOf(statuses.get(p.id), own),
      runs: own,
    };
  });
}

function statusOf(recorded: string | undefined, runs: readonly RunUsage[]): ProcessorCostStatus {
  if (recorded === "SUCCEEDED" || recorded === "FAILED" || recorded === "STARTED" || recorded === "NOT_STARTED") return recorded;
  if (!runs.length) return recorded === undefined ? "NOT_STARTED" : "UNKNOWN";
  const last = runs[runs.length - 1];
  return last.finished ? (last.outcome ?? "UNKNOWN") : "STARTED";
}

/** Seconds between two ISO times, never negative; undefined when either is missing or unreadable. */
export function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : undefined;
}
