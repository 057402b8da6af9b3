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
}

