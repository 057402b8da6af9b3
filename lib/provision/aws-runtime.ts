import { ConflictError, NotFoundError, UnavailableError } from "../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../model/execution-record";
import { NodeOutputs } from "../model/node-outputs";
import { ExecutionRecordStore } from "../model/record-store";
import type { AwsClients } from "../runtime/aws/clients";
import { NodeRecord } from "./records";
import { StartExecutionRequest, WorkflowRuntime } from "./workflow-runtime";

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

  async runningExecutionOf(node: NodeRecord): Promise<string | undefined> {
    if (!node.outputs) return undefined;
    const { api, clients, store, outputs } = this.context(node);
    for (const record of await store.list()) {
      if (record.computeNodeId !== node.id || isTerminalExecutionStatus(record.status)) continue;
      // A record can lag behind Step Functions: refresh before calling it running.
      const fresh = await api.getExecutionRecord({ executionId: record.executionId, store, clients, envFileBucket: outputs.envFileBucket });
      if (!isTerminalExecutionStatus(fresh.status)) return fresh.executionId;
    }
    return undefined;
  }

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
  };
}
