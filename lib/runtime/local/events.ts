import { ExecutionStatus, ProcessorStatus } from "../../model/execution-record";

/** What the local runner reports while it runs, through `LocalRunOptions.onEvent`. */
export type LocalRunEventBody =
  | { type: "execution-started"; workflowName: string; processorCount: number; workdir: string; recordFile: string }
  | { type: "step"; step: "download" | "merge" | "upload" | "cleanup" | "finalize"; processorId?: string; detail: string }
  | { type: "processor-started"; processorId: string; attempt: number; logFile: string; command: string }
  | { type: "processor-retrying"; processorId: string; attempt: number; cause: string }
  | { type: "processor-finished"; processorId: string; status: Extract<ProcessorStatus, "SUCCEEDED" | "FAILED" | "CANCELED">; exitCode?: number; durationMs: number; cause?: string; done: number; total: number }
  | { type: "execution-finished"; status: ExecutionStatus; durationMs: number; error?: { error: string; cause?: string } };

/** An event envelope: ordered by `sequence` within one execution. */
export type LocalRunEvent = { sequence: number; timestamp: string; executionId: string } & LocalRunEventBody;
