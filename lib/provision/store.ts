import { OperationEvent } from "./events";
import type { ExecutionEvent } from "./execution-events";
import { ExecutionRef, IdempotencyEntry, NodeRecord, OperationRecord, WorkflowDefinitionRecord } from "./records";

/**
 * Where the provisioner keeps its state so that a restart loses nothing: nodes, operations with
 * their events, idempotency keys, and execution references. The embedded default is files under
 * the data dir ({@link FileProvisionStore}); a DynamoDB table when configured ({@link DynamoProvisionStore}).
 */
export interface ProvisionStore {
  getNode(id: string): Promise<NodeRecord | undefined>;
  putNode(node: NodeRecord): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  getOperation(id: string): Promise<OperationRecord | undefined>;
  putOperation(operation: OperationRecord): Promise<void>;
  /** Operations that were not finished when last written: what a restart must recover. */
  listUnfinishedOperations(): Promise<OperationRecord[]>;
  /** Appends one event; events of one operation are appended in sequence order by a single writer. */
  appendEvent(event: OperationEvent): Promise<void>;
  readEvents(operationId: string): Promise<OperationEvent[]>;
  getIdempotencyKey(key: string): Promise<IdempotencyEntry | undefined>;
  /**
   * Binds an idempotency key to an entry unless it is bound already; returns the existing entry
   * in that case (and writes nothing). Atomic across concurrent callers.
   */
  claimIdempotencyKey(entry: IdempotencyEntry): Promise<IdempotencyEntry | undefined>;
  putExecutionRef(ref: ExecutionRef): Promise<void>;
  getExecutionRef(executionId: string): Promise<ExecutionRef | undefined>;
  /** Appends one status event of an execution; a single writer appends them in sequence order. */
  appendExecutionEvent(event: ExecutionEvent): Promise<void>;
  /** An execution's events in sequence order, so a restarted service resumes a stream with the same ids. */
  readExecutionEvents(executionId: string): Promise<ExecutionEvent[]>;
  putWorkflow(definition: WorkflowDefinitionRecord): Promise<void>;
  getWorkflow(nodeId: string, name: string): Promise<WorkflowDefinitionRecord | undefined>;
  /** A node's definitions, by name. */
  listWorkflows(nodeId: string): Promise<WorkflowDefinitionRecord[]>;
  deleteWorkflow(nodeId: string, name: string): Promise<void>;
}
