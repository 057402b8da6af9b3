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

/** Options of {@link WorkflowRuntime.runningExecutionOf}. */
export interface RunningExecutionFilter {
  /** Only executions of this workflow. @default any workflow */
  workflowName?: string;
}

/** Options of {@link WorkflowRuntime.readProcessorLogs}. */
export interface ProcessorLogOptions {
  /** Keep streaming until the processor (or its execution) ends. @default false */
  follow?: boolean;
  /** Ends a followed stream early (the client went away). */
  signal?: AbortSignal;
}

export interface RegisterWorkflowResult {
  /** Whether registering changed anything the runtime keeps (AWS: any mutating call). Undefined: the runtime keeps nothing, the service compares definitions. */
  changed?: boolean;
  definitionHash: string;
  stateMachineArn?: string;
}

/**
 * The workflow runtime of a node as the service uses it: the local runner on a laptop, Step
 * Functions on AWS. Both give the same execution record. Records returned never hold server file
 * paths of the local runtime's internals other than relative to the node's directory.
 */
export interface WorkflowRuntime {
  readonly backend: "local" | "aws";
  /** Compiles, registers and starts; resolves once the execution exists (not when it finishes). */
  startExecution(request: StartExecutionRequest): Promise<{ executionId: string }>;
  /** Throws NotFoundError for an unknown execution. */
  getExecution(node: NodeRecord | undefined, executionId: string): Promise<ExecutionRecord>;
  /** Every execution recorded for the node, in no particular order. */
  listExecutions(node: NodeRecord): Promise<ExecutionRecord[]>;
  /** Id of an execution still running on the node (of one workflow when given), if any. */
  runningExecutionOf(node: NodeRecord, filter?: RunningExecutionFilter): Promise<string | undefined>;
  /**
   * Asks a running execution to stop: the record goes CANCELING, then CANCELED once its processors
   * are stopped. Idempotent on a CANCELING or CANCELED one; ConflictError (naming its status) on an
   * execution that finished otherwise.
   */
  cancelExecution(node: NodeRecord, executionId: string): Promise<ExecutionRecord>;
  /** A processor's log lines as text chunks; NotFoundError for a processor the execution does not have. */
  readProcessorLogs(node: NodeRecord, executionId: string, processorId: string, options?: ProcessorLogOptions): AsyncIterable<string>;
  /** Registers a workflow definition (processors and state machines) without starting it. */
  registerWorkflow(node: NodeRecord, plan: ResolvedPlan): Promise<RegisterWorkflowResult>;
  /** Removes a workflow definition's state machines and the resources only it used. */
  deleteWorkflow(node: NodeRecord, workflowName: string): Promise<void>;
  /**
   * After a restart: marks executions the previous process left unfinished, with no live runner,
   * FAILED (cause "interrupted"). Returns their ids.
   */
  recoverInterrupted(nodes: NodeRecord[]): Promise<string[]>;
  /** Service shutdown: stops the executions this process runs (local records end ABORTED). */
  shutdown(): Promise<void>;
  /**
   * Deletes what executions registered on the node (state machines, task definitions, functions).
   * Throws ConflictError while an execution runs unless `force` (which stops them first).
   */
  cleanupNode(node: NodeRecord, options: { force: boolean }): Promise<void>;
}
