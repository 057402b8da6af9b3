import { ExecutionRecord, ExecutionStatus, ProcessorRunState } from "./execution-record";

/**
 * Persists execution records. The snapshot is written once by `create`; later calls only move
 * statuses forward (see advanceProcessorState). Local runs use files, AWS uses DynamoDB.
 */
export interface ExecutionRecordStore {
  /** Fails with ConflictError if the id exists: a snapshot is never overwritten. */
  create(record: ExecutionRecord): Promise<void>;
  get(executionId: string): Promise<ExecutionRecord | undefined>;
  list(): Promise<ExecutionRecord[]>;
  updateProcessor(executionId: string, processorId: string, state: ProcessorRunState): Promise<ExecutionRecord>;
  updateExecution(
    executionId: string,
    patch: { status?: ExecutionStatus; startedAt?: string; finishedAt?: string; error?: ExecutionRecord["error"]; executionArn?: string; artifacts?: Record<string, string>; outputs?: ExecutionRecord["outputs"] },
  ): Promise<ExecutionRecord>;
}
