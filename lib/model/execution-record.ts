import { z } from "zod";
import { ComputeTypeSchema, DeploymentModeSchema } from "./mode";
import { WorkflowSchema } from "./workflow";
import { InvocationSchema } from "./invocation";
import { ProcessorRegistrationSchema } from "./processor";

/** CANCELED: stopped by a cancel (or by its execution ending) before it finished; never left STARTED. */
export const ProcessorStatusSchema = z.enum(["NOT_STARTED", "STARTED", "SUCCEEDED", "FAILED", "CANCELED"]);
export type ProcessorStatus = z.infer<typeof ProcessorStatusSchema>;

/**
 * PENDING → RUNNING → FINALIZING (the DAG is done; cleanup and finalize run) → SUCCEEDED | FAILED;
 * a cancel goes RUNNING → CANCELING → CANCELED. ABORTED and TIMED_OUT are Step Functions' own
 * terminal statuses (a StopExecution not made by a cancel, the machine's timeout), and a local run
 * interrupted by Ctrl-C ends ABORTED.
 */
export const ExecutionStatusSchema = z.enum(["PENDING", "RUNNING", "FINALIZING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "CANCELING", "CANCELED"]);
export type ExecutionStatus = z.infer<typeof ExecutionStatusSchema>;

export const ResolvedProcessorSnapshotSchema = z.object({
  id: z.string(),
  uuid: z.string(),
  image: z.string(),
  computeType: ComputeTypeSchema,
  cpu: z.number(),
  memory: z.number(),
  /** GiB of ECS ephemeral storage (cost reports); absent in records written before it. */
  ephemeralStorage: z.number().optional(),
  /** GPUs per ECS task (cost reports: such tasks run on EC2 capacity); absent in records written before it. */
  gpu: z.number().optional(),
  hash: z.string(),
});

/** What was run, frozen when the execution starts; never rewritten afterwards. */
export const ExecutionSnapshotSchema = z.object({
  workflow: WorkflowSchema,
  processors: z.array(ProcessorRegistrationSchema),
  invocation: InvocationSchema,
  mode: DeploymentModeSchema,
  resolved: z.array(ResolvedProcessorSnapshotSchema),
  definitionHash: z.string(),
});

export const ProcessorRunStateSchema = z.object({
  status: ProcessorStatusSchema,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  exitCode: z.number().int().optional(),
  /** Why it failed: exit code, stopped reason or error name; never a token. */
  cause: z.string().optional(),
  logFile: z.string().optional(),
  attempts: z.number().int().min(0).optional(),
});
export type ProcessorRunState = z.infer<typeof ProcessorRunStateSchema>;

/** What the run's upload step sent to the invocation's `outputs` destination (bounded: at most 50 processors and 50 file names are listed). */
export const ExecutionOutputsSchema = z.object({
  /** The destination as the run resolved it: `s3://bucket/prefix/` or a directory. */
  destination: z.string(),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** Entries that are neither files, directories nor links inside the execution (FIFOs, sockets, devices): not uploaded. */
  skipped: z.number().int().min(0),
  /** How many sink processors were uploaded; `processors` lists the first 50. */
  processorCount: z.number().int().min(0),
  processors: z.array(z.object({ processorId: z.string(), destination: z.string(), files: z.number().int().min(0), bytes: z.number().int().min(0) })),
  /** The first uploaded objects (s3:// URIs or paths). */
  sample: z.array(z.string()),
});
export type ExecutionOutputs = z.infer<typeof ExecutionOutputsSchema>;

/** The immutable execution record (snapshot) plus its mutable progress. */
export const ExecutionRecordSchema = z.object({
  executionId: z.string(),
  workflowInstanceId: z.string(),
  backend: z.enum(["local", "aws"]),
  computeNodeId: z.string(),
  stateMachineArn: z.string().optional(),
  executionArn: z.string().optional(),
  createdAt: z.string(),
  snapshot: ExecutionSnapshotSchema,
  status: ExecutionStatusSchema,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  error: z.object({ error: z.string(), cause: z.string().optional() }).optional(),
  processors: z.record(z.string(), ProcessorRunStateSchema),
  /** The local runner running it (process id and host name), so another process can cancel it; absent on AWS. */
  runner: z.object({ pid: z.number().int(), host: z.string() }).optional(),
  /** What was uploaded to the invocation's `outputs` destination, once the upload step has run. */
  outputs: ExecutionOutputsSchema.optional(),
  /** Where the execution's logs and cost report went (local path or s3:// URI). */
  artifacts: z.record(z.string(), z.string()).optional(),
});
export type ExecutionRecord = z.infer<typeof ExecutionRecordSchema>;
export type ExecutionSnapshot = z.infer<typeof ExecutionSnapshotSchema>;

const ORDER: Record<ProcessorStatus, number> = { NOT_STARTED: 0, STARTED: 1, SUCCEEDED: 2, FAILED: 2, CANCELED: 2 };

/**
 * Applies a status change to one processor, refusing to go backwards: a late or duplicated
 * event (history pages read twice, a retry's STARTED after a FAILED) must not undo a final state.
 * Returns the new state, or the old one unchanged when the transition is not forward.
 */
export function advanceProcessorState(current: ProcessorRunState, next: ProcessorRunState): ProcessorRunState {
  if (ORDER[next.status] < ORDER[current.status]) return current;
  if (ORDER[next.status] === ORDER[current.status] && current.status !== "STARTED") return current;
  return { ...current, ...next };
}

export function isTerminalExecutionStatus(status: ExecutionStatus): boolean {
  return status === "SUCCEEDED" || status === "FAILED" || status === "ABORTED" || status === "TIMED_OUT" || status === "CANCELED";
}
