import { ConflictError, NotFoundError, UnavailableError } from "../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../model/execution-record";
import { NodeOutputs } from "../model/node-outputs";
import { ExecutionRecordStore } from "../model/record-store";
import type { AwsClients } from "../runtime/aws/clients";
import { NodeRecord } from "./records";
import { ProcessorLogOptions, RegisterWorkflowResult, RunningExecutionFilter, StartExecutionRequest, WorkflowRuntime } from "./workflow-runtime";

/** The AWS runtime functions this adapter calls; injected in tests, loaded from lib/runtime/aws otherwise. */
export interface AwsRuntimeApi {
  createClients(region: string): AwsClients;
  /** The node's record store: `table` when given, else the node's `executionTableName`, else files under `recordsDir`. */
  recordStore(outputs: NodeOutputs, clients: AwsClients, table: string | undefined, recordsDir: string): ExecutionRecordStore;
  parseNodeOutputs(value: unknown): NodeOutputs;
  startWorkflowExecution(options: { node: NodeOutputs; plan: StartExecutionRequest["plan"]; clients: AwsClients; store: ExecutionRecordStore }): Promise<{ executionId: string }>;
  getExecutionRecord(options: { executionId: string; store: ExecutionRecordStore; clients: AwsClients; envFileBucket?: string }): Promise<ExecutionRecord>;
  /** Throws ConflictError while an execution runs unless `force`. */
  cleanupNodeResources?: (options: { computeNodeId: string; region: string; force?: boolean; clients?: AwsClients }) => Promise<unknown>;
  /** Registers processors and creates or updates the state machines; `mutatingCalls` is 0 when all was in place. */
  deployWorkflow(options: { node: NodeOutputs; plan: StartExecutionRequest["plan"]; clients: AwsClients }): Promise<{ stateMachineArn: string; definitionHash: string; mutatingCalls: number }>;
  /** Deletes a workflow's state machines and the functions and task definitions only it used. */
  cleanupWorkflow(options: { computeNodeId: string; workflowName: string; region: string; force?: boolean; clients?: AwsClients }): Promise<unknown>;
  /** Marks the record CANCELING and calls StopExecution; the node's EventBridge rule later runs cleanup and finalize. */
  stopWorkflowExecution?: (options: { executionId: string; store: ExecutionRecordStore; clients: AwsClients; envFileBucket?: string }) => Promise<ExecutionRecord>;
  /** A processor's log lines from CloudWatch while it runs, from the archive afterwards. */
  readProcessorLogs?: (options: { executionId: string; processorId: string; store: ExecutionRecordStore; clients: AwsClients; node: NodeOutputs; follow?: boolean; signal?: AbortSignal }) => AsyncIterable<string>;
}

export interface AwsWorkflowRuntimeOptions {
  /** DynamoDB table of execution records. @default the node's `executionTableName` output, else files under `recordsDir` */
  executionTable?: string;
  /** Where records go for nodes without a table. */
  recordsDir: string;
  api?: AwsRuntimeApi;
}

/**
 * Executions on AWS Step Functions for the nodes this service provisioned, through lib/runtime/aws:
 * the node's (non-secret) stack outputs say where (cluster, roles, subnets, functions).
 */
export class AwsWorkflowRuntime implements WorkflowRuntime {
  readonly backend = "aws" as const;
  private readonly clients = new Map<string, AwsClients>();
  private api?: AwsRuntimeApi;

  constructor(private readonly options: AwsWorkflowRuntimeOptions) {
    this.api = options.api;
  }

  async startExecution({ node, plan }: StartExecutionRequest): Promise<{ executionId: string }> {
    const { api, clients, store, outputs } = this.context(node);
    const started = await api.startWorkflowExecution({ node: outputs, plan, clients, store });
    return { executionId: started.executionId };
  }

  async getExecution(node: NodeRecord | undefined, executionId: string): Promise<ExecutionRecord> {
    if (!node) throw new NotFoundError(`no execution "${executionId}": its compute node is unknown`);
    const { api, clients, store, outputs } = this.context(node);
    return api.getExecutionRecord({ executionId, store, clients, envFileBucket: outputs.envFileBucket });
  }

  async listExecutions(node: NodeRecord): Promise<ExecutionRecord[]> {
    if (!node.outputs) return [];
    const { store } = this.context(node);
    return (await store.list()).filter((record) => record.computeNodeId === node.id);
  }

  async runningExecutionOf(node: NodeRecord, filter: RunningExecutionFilter = {}): Promise<string | undefined> {
    if (!node.outputs) return undefined;
    const { api, clients, store, outputs } = this.context(node);
    for (const record of await store.list()) {
      if (record.computeNodeId !== node.id || isTerminalExecutionStatus(record.status)) continue;
      if (filter.workflowName !== undefined && record.snapshot.workflow.name !== filter.workflowName) continue;
      // A record can lag behind Step Functions: refresh before calling it running.
      const fresh = await api.getExecutionRecord({ executionId: record.executionId, store, clients, envFileBucket: outputs.envFileBucket });
      if (!isTerminalExecutionStatus(fresh.status)) return fresh.executionId;
    }
    return undefined;
  }

  async cancelExecution(node: NodeRecord, executionId: string): Promise<ExecutionRecord> {
    const { api, clients, store, outputs } = this.context(node);
    const record = await api.getExecutionRecord({ executionId, store, clients, envFileBucket: outputs.envFileBucket });
    if (record.status === "CANCELING" || record.status === "CANCELED") return record;
    if (isTerminalExecutionStatus(record.status)) throw new ConflictError(`execution ${executionId} already finished with status ${record.status}; only a running execution can be cancelled`, executionId);
    if (!api.stopWorkflowExecution) throw new UnavailableError("cancelling an AWS execution is not available: this build of lib/runtime/aws has no stopWorkflowExecution");
    return api.stopWorkflowExecution({ executionId, store, clients, envFileBucket: outputs.envFileBucket });
  }

  readProcessorLogs(node: NodeRecord, executionId: string, processorId: string, options: ProcessorLogOptions = {}): AsyncIterable<string> {
    const { api, clients, store, outputs } = this.context(node);
    const read = api.readProcessorLogs;
    if (!read) throw new UnavailableError("processor logs of AWS executions are not available: this build of lib/runtime/aws has no readProcessorLogs");
    return (async function* () {
      const record = await api.getExecutionRecord({ executionId, store, clients, envFileBucket: outputs.envFileBucket });
      if (!record.processors[processorId]) throw new NotFoundError(`execution ${executionId} has no processor "${processorId}" (known: ${Object.keys(record.processors).join(", ")})`);
      yield* read({ executionId, processorId, store, clients, node: outputs, follow: options.follow, signal: options.signal });
    })();
  }

  async registerWorkflow(node: NodeRecord, plan: StartExecutionRequest["plan"]): Promise<RegisterWorkflowResult> {
    const { api, clients, outputs } = this.context(node);
    const deployed = await api.deployWorkflow({ node: outputs, plan, clients });
    return { changed: deployed.mutatingCalls > 0, definitionHash: deployed.definitionHash, stateMachineArn: deployed.stateMachineArn };
  }

  async deleteWorkflow(node: NodeRecord, workflowName: string): Promise<void> {
    const api = this.load();
    await api.cleanupWorkflow({ computeNodeId: node.id, workflowName, region: node.region, clients: this.clientsFor(node.region) });
  }

  async recoverInterrupted(): Promise<string[]> {
    // Step Functions runs executions, not this process: a restart leaves them running, and their records follow them.
    return [];
  }

  async shutdown(): Promise<void> {}

  async cleanupNode(node: NodeRecord, options: { force: boolean }): Promise<void> {
    const api = this.load();
    if (!api.cleanupNodeResources) throw new UnavailableError("per-node cleanup is not available; refusing to destroy a node whose registered resources would leak");
    if (!options.force) {
      const running = await this.runningExecutionOf(node);
      if (running) throw new ConflictError(`execution ${running} is running on compute node "${node.id}"`, running);
    }
    await api.cleanupNodeResources({ computeNodeId: node.id, region: node.region, force: options.force, clients: this.clientsFor(node.region) });
  }

  private context(node: NodeRecord) {
    const api = this.load();
    const outputs = api.parseNodeOutputs(node.outputs ?? {});
    const clients = this.clientsFor(node.region);
    return { api, outputs, clients, store: api.recordStore(outputs, clients, this.options.executionTable, this.options.recordsDir) };
  }

  private clientsFor(region: string): AwsClients {
    let clients = this.clients.get(region);
    if (!clients) this.clients.set(region, (clients = this.load().createClients(region)));
    return clients;
  }

  private load(): AwsRuntimeApi {
    this.api ??= loadAwsRuntime();
    return this.api;
  }
}

function loadAwsRuntime(): AwsRuntimeApi {
  // Loaded on first use: the AWS SDK clients are heavy and a --local service never needs them.
  const aws = require("../runtime/aws") as typeof import("../runtime/aws");
  // One per runtime, not per process: finished map-run iterations are read once however often the service refreshes.
  const finishedIterations = aws.createFinishedIterations();
  return {
    createClients: (region) => aws.createAwsClients({ region }),
    recordStore: (outputs, clients, table, recordsDir) =>
      table ? new aws.DynamoRecordStore({ clients, tableName: table }) : aws.recordStoreFor(outputs, clients, recordsDir),
    parseNodeOutputs: aws.parseNodeOutputs,
    startWorkflowExecution: aws.startWorkflowExecution,
    getExecutionRecord: (options) => aws.getExecutionRecord({ ...options, finishedIterations }),
    cleanupNodeResources: aws.cleanupNodeResources,
    deployWorkflow: aws.deployWorkflow,
    cleanupWorkflow: aws.cleanupWorkflow,
    stopWorkflowExecution: aws.stopWorkflowExecution,
    readProcessorLogs: aws.readProcessorLogs,
  };
}
