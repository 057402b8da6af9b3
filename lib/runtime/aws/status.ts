import { NotFoundError } from "../../errors";
import { ExecutionRecord } from "../../model/execution-record";
import { NodeOutputs } from "../../model/node-outputs";
import { ValidationError } from "../../errors";
import { createAwsClients } from "./clients";
import { recordStoreFor } from "./record-store";
import { refreshExecutionStatus } from "./tracking";
import { stopWorkflowExecution } from "./cancel";
import { readProcessorLogs } from "./logs";
import { FileRecordStore } from "../file-record-store";
import { join, resolve } from "node:path";

const EXECUTION_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:execution:[^:]+:([A-Za-z0-9_-]{1,80})$/;

export function isExecutionArn(value: string): boolean {
  return EXECUTION_ARN.test(value);
}

export interface LoadAwsExecutionOptions {
  /** Execution ARN, or the workflow instance id when `node` is given. */
  execution: string;
  /** The node's stack outputs: region and record table. */
  node?: NodeOutputs;
  /** Where records of nodes without a table live (`<workdir>/aws-executions`). */
  workdir: string;
  env?: NodeJS.ProcessEnv;
}

/** The record of an AWS execution, refreshed from Step Functions (the AWS branch of `compute-node status`). */
export async function loadAwsExecutionRecord(options: LoadAwsExecutionOptions): Promise<ExecutionRecord> {
  const { executionId, store, clients } = await awsExecution(options);
  return refreshExecutionStatus({ executionId, store, clients, envFileBucket: options.node?.envFileBucket });
}

/** Cancels an AWS execution (the AWS branch of `compute-node cancel`): CANCELING, then StopExecution; the node's stop rule finalizes. */
export async function cancelAwsExecution(options: LoadAwsExecutionOptions): Promise<ExecutionRecord> {
  const { executionId, store, clients } = await awsExecution(options);
  return stopWorkflowExecution({ executionId, store, clients, envFileBucket: options.node?.envFileBucket });
}

/** One processor's log lines of an AWS execution (the AWS branch of `compute-node logs`); needs the node's outputs. */
export async function* readAwsProcessorLogs(options: LoadAwsExecutionOptions & { processorId: string; follow?: boolean; signal?: AbortSignal }): AsyncIterable<string> {
  const node = options.node;
  if (!node) throw new ValidationError([{ code: "node_required", path: ["--node"], message: "pass --node NODE.json: an AWS execution's logs are found from its node's outputs" }]);
  const { executionId, store, clients } = await awsExecution(options);
  yield* readProcessorLogs({ executionId, processorId: options.processorId, store, clients, node, follow: options.follow, signal: options.signal });
}

/** A node's AWS execution records, newest first (the AWS branch of `compute-node executions`); records are as stored, not refreshed. */
export async function listAwsExecutions(options: { node: NodeOutputs; workdir: string; env?: NodeJS.ProcessEnv; status?: string; workflow?: string; limit?: number }): Promise<ExecutionRecord[]> {
  const clients = createAwsClients({ region: options.node.region, env: options.env ?? process.env });
  const records = (await recordStoreFor(options.node, clients, options.workdir).list())
    .filter((r) => r.computeNodeId === options.node.computeNodeId)
    .filter((r) => options.status === undefined || r.status === options.status)
    .filter((r) => options.workflow === undefined || r.snapshot.workflow.name === options.workflow)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.executionId.localeCompare(a.executionId));
  return options.limit === undefined ? records : records.slice(0, options.limit);
}

async function awsExecution(options: LoadAwsExecutionOptions) {
  const env = options.env ?? process.env;
  const match = EXECUTION_ARN.exec(options.execution);
  const region = options.node?.region ?? match?.[1] ?? env.AWS_REGION;
  if (!region) throw new ValidationError([{ code: "region_required", path: ["--node"], message: "pass --node NODE.json (or set AWS_REGION) to read an AWS execution" }]);
  const executionId = match?.[2] ?? options.execution;
  const clients = createAwsClients({ region, env });
  const store = options.node ? recordStoreFor(options.node, clients, options.workdir) : new FileRecordStore(join(resolve(options.workdir), "aws-executions"));
  const record = await store.get(executionId);
  if (!record) throw new NotFoundError(`no record of AWS execution "${executionId}"${options.node ? ` for node "${options.node.computeNodeId}"` : ""}: was it started with compute-node start?`);
  return { executionId, store, clients };
}
