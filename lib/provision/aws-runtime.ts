import { ConflictError, NotFoundError, UnavailableError, ValidationError } from "../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../model/execution-record";
import { NodeOutputs } from "../model/node-outputs";
import { ExecutionRecordStore } from "../model/record-store";
import type { AwsClients } from "../runtime/aws/clients";
import { NodeRecord } from "./records";
import { StartExecutionRequest, WorkflowRuntime } from "./workflow-runtime";

/** The AWS runtime functions this adapter calls; injected in tests, loaded from lib/runtime/aws otherwise. */
export interface AwsRuntimeApi {
  createClients(region: string): AwsClients;
  createStore(clients: AwsClients, tableName: string): ExecutionRecordStore;
  parseNodeOutputs(value: unknown): NodeOutputs;
  startWorkflowExecution(options: { node: NodeOutputs; plan: StartExecutionRequest["plan"]; clients: AwsClients; store: ExecutionRecordStore }): Promise<{ executionId: string }>;
  getExecutionRecord(options: { executionId: string; store: ExecutionRecordStore; clients: AwsClients }): Promise<ExecutionRecord>;
  /** Throws ConflictError while an execution runs unless `force`. Absent until lib/runtime/aws/cleanup.ts exists. */
  cleanupNodeResources?: (options: { computeNodeId: string; region: string; force?: boolean; clients?: AwsClients }) => Promise<unknown>;
}

export interface AwsWorkflowRuntimeOptions {
  /** DynamoDB table of execution records. @default the node's `executionTableName` output */
  executionTable?: string;
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

  constructor(private readonly options: AwsWorkflowRuntimeOptions = {}) {
    this.api = options.api;
  }

  async startExecution({ node, plan }: StartExecutionRequest): Promise<{ executionId: string }> {
    const { api, clients, store, outputs } = this.context(node);
    const started = await api.startWorkflowExecution({ node: outputs, plan, clients, store });
    return { executionId: started.executionId };
  }

  async getExecution(node: NodeRecord | undefined, executionId: string): Promise<ExecutionRecord> {
    if (!node) throw new NotFoundError(`no execution "${executionId}": its compute node is unknown`);
    const { api, clients, store } = this.context(node);
    return api.getExecutionRecord({ executionId, store, clients });
  }

  async runningExecutionOf(node: NodeRecord): Promise<string | undefined> {
    if (!node.outputs) return undefined;
    const { api, clients, store } = this.context(node);
    for (const record of await store.list()) {
      if (record.computeNodeId !== node.id || isTerminalExecutionStatus(record.status)) continue;
      // A record can lag behind Step Functions: refresh before calling it running.
      const fresh = await api.getExecutionRecord({ executionId: record.executionId, store, clients });
      if (!isTerminalExecutionStatus(fresh.status)) return fresh.executionId;
    }
    return undefined;
  }

  async cleanupNode(node: NodeRecord, options: { force: boolean }): Promise<void> {
    const api = this.load();
    if (!api.cleanupNodeResources) throw new UnavailableError("per-node cleanup (lib/runtime/aws/cleanup.ts) is not part of this build; refusing to destroy a node whose registered resources would leak");
    if (!options.force) {
      const running = await this.runningExecutionOf(node);
      if (running) throw new ConflictError(`execution ${running} is running on compute node "${node.id}"`, running);
    }
    await api.cleanupNodeResources({ computeNodeId: node.id, region: node.region, force: options.force, clients: this.clientsFor(node.region) });
  }

  private context(node: NodeRecord) {
    const api = this.load();
    const outputs = api.parseNodeOutputs(node.outputs ?? {});
    const table = this.options.executionTable ?? (typeof node.outputs?.executionTableName === "string" ? node.outputs.executionTableName : undefined);
    if (!table)
      throw new ValidationError([{ code: "no_execution_table", path: ["node", "outputs", "executionTableName"], message: `compute node "${node.id}" has no executionTableName output and the service has no --executions-table` }]);
    const clients = this.clientsFor(node.region);
    return { api, outputs, clients, store: api.createStore(clients, table) };
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
  const clients = require("../runtime/aws/clients") as typeof import("../runtime/aws/clients");
  const executions = require("../runtime/aws/executions") as typeof import("../runtime/aws/executions");
  const tracking = require("../runtime/aws/tracking") as typeof import("../runtime/aws/tracking");
  const records = require("../runtime/aws/dynamo-record-store") as typeof import("../runtime/aws/dynamo-record-store");
  const node = require("../runtime/aws/node") as typeof import("../runtime/aws/node");
  let cleanup: AwsRuntimeApi["cleanupNodeResources"];
  try {
    cleanup = (require("../runtime/aws/cleanup") as { cleanupNodeResources?: AwsRuntimeApi["cleanupNodeResources"] }).cleanupNodeResources;
  } catch {
    cleanup = undefined;
  }
  return {
    createClients: (region) => clients.createAwsClients({ region }),
    createStore: (c, tableName) => new records.DynamoRecordStore({ clients: c, tableName }),
    parseNodeOutputs: node.parseNodeOutputs,
    startWorkflowExecution: executions.startWorkflowExecution,
    getExecutionRecord: tracking.getExecutionRecord,
    cleanupNodeResources: cleanup,
  };
}
