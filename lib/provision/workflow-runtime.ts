import { ExecutionRecord } from "../model/execution-record";
import { ResolvedPlan } from "../plan/resolve";
import { NodeRecord } from "./records";

export interface StartExecutionRequest {
  node: NodeRecord;
  /** Resolved for the node's mode, with the node as `computeNodeId`. */
  plan: ResolvedPlan;
  /** Local runtime only: directory copied in as the execution's input. @default an empty directory */
  inputDir?: string;
}

/**
 * The workflow runtime of a node as the service uses it: the local runner on a laptop, Step
 * Functions on AWS. Both give the same execution record.
 */
export interface WorkflowRuntime {
  readonly backend: "local" | "aws";
  /** Compiles, registers and starts; resolves once the execution exists (not when it finishes). */
  startExecution(request: StartExecutionRequest): Promise<{ executionId: string }>;
  /** Throws NotFoundError for an unknown execution. */
  getExecution(node: NodeRecord | undefined, executionId: string): Promise<ExecutionRecord>;
  /** Id of an execution still running on the node, if any. */
  runningExecutionOf(node: NodeRecord): Promise<string | undefined>;
  /**
   * Deletes what executions registered on the node (state machines, task definitions, functions).
   * Throws ConflictError while an execution runs unless `force` (which stops them first).
   */
  cleanupNode(node: NodeRecord, options: { force: boolean }): Promise<void>;
}
