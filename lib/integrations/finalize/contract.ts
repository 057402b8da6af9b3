/** The finalize function's contract (docs/asl-contract.md "Finalize"): its payload and what it answers. Dependency-free. */
export const FINALIZE_ACTION = "finalize";

export interface FinalizeEvent {
  action: "finalize";
  computeNodeId: string;
  workflowInstanceId: string;
  status: "SUCCEEDED" | "FAILED";
  error?: unknown;
  /** `$$.Execution.Id`: lets finalize archive per processor from the execution's history. Machines compiled before it omit it. */
  executionArn?: string;
}

export interface FinalizeResult {
  /** `processors`: one object per ECS task / Lambda invocation, read from the execution's history; `log-group`: the fallback `logs.jsonl`. */
  archive: "processors" | "log-group";
  /** The archived log objects (`s3://…`). */
  archived: string[];
  /** The fallback object (archive `log-group` only): every event of the node log group in the run's time window. */
  logs?: string;
  /** Why the history could not be read (archive `log-group` with an executionArn). */
  historyError?: string;
  /** The history walk stopped at its bound: some processor runs may be missing. */
  historyTruncated?: boolean;
  costReport: string;
  /** Events archived, over all objects. */
  logEvents: number;
  /** What became of the execution's token secret: `deleted`, `absent` (already gone) or `kept` (no permission; the tracker deletes it later). */
  tokenSecret: "deleted" | "absent" | "kept";
  /** What became of the execution's environment file (ECS processors' tokens): `deleted`, or `kept` (no permission; the tracker deletes it later). Absent without ENV_FILE_BUCKET. */
  envFile?: "deleted" | "kept";
  /** The data-transfer function's cleanup of the execution's EFS dirs (absent without DATA_TRANSFER_FUNCTION, or when finalize had run already). */
  efsCleanup?: "done" | "failed";
}


/**
 * The EventBridge event the node's stop rule delivers to the finalize function (docs/node.md "After a
 * stop"): Step Functions skips Catch on StopExecution, TIMED_OUT and ABORTED, so the machine's own
 * Finalize never runs for those; the rule also matches FAILED, which is a no-op when Finalize ran.
 */
export const STOP_EVENT_SOURCE = "aws.states";
export const STOP_EVENT_DETAIL_TYPE = "Step Functions Execution Status Change";
export const STOP_EVENT_STATUSES = ["ABORTED", "TIMED_OUT", "FAILED"] as const;
export type StopEventStatus = (typeof STOP_EVENT_STATUSES)[number];

/** The fields of an execution status change the handler reads (`input` may be absent or truncated). */
export interface StopEvent {
  source: typeof STOP_EVENT_SOURCE;
  "detail-type": typeof STOP_EVENT_DETAIL_TYPE;
  detail: { executionArn: string; stateMachineArn?: string; status: StopEventStatus; input?: string | null; stopDate?: number | null };
}

/** What the after-stop handler did; each step says whether it acted or found it done (so a duplicate event is visible as such). */
export interface StopResult {
  /** `ignored`: not one of this node's top-level executions (a child machine, another node, no record). */
  outcome: "finalized" | "already-finalized" | "ignored";
  workflowInstanceId?: string;
  /** Why it was ignored. */
  reason?: string;
  /** The record's terminal status after the handler (unchanged when it already was terminal). */
  status?: string;
  /** Processors moved from STARTED to CANCELED. */
  canceledProcessors?: string[];
  costReport?: string;
  logArchive?: string;
  tokenSecret?: "deleted" | "absent" | "kept";
  envFile?: "deleted" | "kept";
  /** The data-transfer function's cleanup of the execution's EFS dirs (absent without DATA_TRANSFER_FUNCTION, or when finalize had run already). */
  efsCleanup?: "done" | "failed";
}
