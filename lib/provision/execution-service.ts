import { createHash } from "node:crypto";
import { basename, isAbsolute } from "node:path";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { ExecutionRecord, ExecutionStatus, ExecutionStatusSchema } from "../model/execution-record";
import { resolvePlan, ResolvedPlan } from "../plan/resolve";
import { ProvisionStore } from "./store";
import { NodeService } from "./node-service";
import { WorkflowRuntime } from "./workflow-runtime";
import { systemClock } from "../clock";
import { ExecutionEventHub } from "./execution-events";
import { ExecutionIdempotencyGuard, requestFingerprint } from "./idempotency";
import { NodeRecord, WorkflowDefinitionRecord } from "./records";

/** A workflow as the CLI reads it: `name` (and `$schema`) may be given, the path names it otherwise. */
export interface WorkflowBody {
  name?: string;
  $schema?: string;
  description?: string;
  processors: unknown[];
}

export interface StartWorkflowRequest {
  nodeId: string;
  workflowName: string;
  /** The workflow; absent means the definition registered under `workflowName`. */
  workflow?: WorkflowBody;
  processors?: unknown;
  invocation?: object;
  inputDir?: string;
  /** Same key and same request: the first start's execution, no second start. */
  idempotencyKey?: string;
}

export interface StartWorkflowResult {
  executionId: string;
  nodeId: string;
  workflowName: string;
  /** True when an Idempotency-Key replay answered an earlier start. */
  replayed: boolean;
}

export interface ListExecutionsRequest {
  nodeId: string;
  status?: string;
  workflow?: string;
  /** @default 50 */
  limit?: number;
  cursor?: string;
}

export interface ExecutionPage {
  executions: ExecutionRecord[];
  /** Pass as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

export interface PutWorkflowRequest {
  nodeId: string;
  name: string;
  workflow: WorkflowBody;
  processors?: unknown;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/** Starts workflows on a ready node, finds their records again, cancels them, and keeps workflow definitions. */
export class ExecutionService {
  readonly events: ExecutionEventHub;
  private readonly idempotency: ExecutionIdempotencyGuard;
  private readonly now: () => Date;

  constructor(
    private readonly options: {
      store: ProvisionStore;
      nodes: NodeService;
      runtime: WorkflowRuntime;
      now?: () => Date;
      /** How often a watched execution's record is read. @default 250 locally, 2000 on AWS */
      eventPollMs?: number;
    },
  ) {
    this.now = options.now ?? systemClock;
    // On AWS a reading refreshes the record from Step Functions (DescribeExecution, history pages): read less often.
    const pollMs = options.eventPollMs ?? (options.runtime.backend === "aws" ? 2000 : 250);
    this.events = new ExecutionEventHub({ read: (id) => this.get(id), pollMs, now: this.now, store: options.store });
    this.idempotency = new ExecutionIdempotencyGuard(options.store, this.now);
  }

  async start(request: StartWorkflowRequest): Promise<StartWorkflowResult> {
    const { idempotencyKey, ...rest } = request;
    const run = async () => {
      const node = await this.readyNode(request.nodeId);
      const source = request.workflow ? { workflow: request.workflow, processors: request.processors } : await this.storedSource(node, request.workflowName, request.processors);
      const plan = this.plan(node, request.workflowName, source.workflow, source.processors, request.invocation);
      const { executionId } = await this.options.runtime.startExecution({ node, plan, inputDir: request.inputDir });
      await this.options.store.putExecutionRef({ executionId, nodeId: node.id, workflowName: request.workflowName, createdAt: this.now().toISOString() });
      return executionId;
    };
    if (!idempotencyKey) return { executionId: await run(), nodeId: request.nodeId, workflowName: request.workflowName, replayed: false };
    const fingerprint = requestFingerprint("POST", `/v1/nodes/${request.nodeId}/workflows/${request.workflowName}/executions`, { ...rest, nodeId: undefined, workflowName: undefined });
    const { executionId, replayed } = await this.idempotency.run(idempotencyKey, fingerprint, run);
    return { executionId, nodeId: request.nodeId, workflowName: request.workflowName, replayed };
  }

  /** The record as the API shows it: no server file paths. */
  async get(executionId: string): Promise<ExecutionRecord> {
    const { node } = await this.locate(executionId);
    return publicRecord(await this.options.runtime.getExecution(node, executionId));
  }

  /** Newest first, then by id; the cursor is opaque to callers and bound to the filter it was made with. */
  async list(request: ListExecutionsRequest): Promise<ExecutionPage> {
    const node = await this.options.nodes.get(request.nodeId);
    const status = request.status === undefined ? undefined : parseStatus(request.status);
    const limit = request.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
      throw new ValidationError([{ code: "invalid_limit", path: ["query", "limit"], message: `limit must be an integer from 1 to ${MAX_PAGE_LIMIT} (got ${request.limit})` }]);
    const filter = filterKey(node.id, status, request.workflow);
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor, filter);
    const all = (await this.options.runtime.listExecutions(node))
      .filter((r) => (status === undefined || r.status === status) && (request.workflow === undefined || r.snapshot.workflow.name === request.workflow))
      .sort(newestFirst);
    const start = after ? all.findIndex((r) => newestFirst(r, { createdAt: after.createdAt, executionId: after.executionId } as ExecutionRecord) > 0) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const more = start >= 0 && start + limit < all.length;
    const last = page[page.length - 1];
    return { executions: page.map(publicRecord), ...(more && last ? { nextCursor: encodeCursor({ createdAt: last.createdAt, executionId: last.executionId, filter }) } : {}) };
  }

  /** CANCELING now, CANCELED once stopped; idempotent; ConflictError on an execution that finished otherwise. */
  async cancel(executionId: string): Promise<ExecutionRecord> {
    const { node } = await this.locate(executionId);
    if (!node) throw new NotFoundError(`execution "${executionId}": its compute node is gone`);
    const record = await this.options.runtime.cancelExecution(node, executionId);
    await this.events.observe(executionId).catch(() => undefined);
    return publicRecord(record);
  }

  async logs(executionId: string, processorId: string, options: { follow?: boolean; signal?: AbortSignal }): Promise<AsyncIterable<string>> {
    const { node } = await this.locate(executionId);
    if (!node) throw new NotFoundError(`execution "${executionId}": its compute node is gone`);
    const record = await this.options.runtime.getExecution(node, executionId);
    if (!record.processors[processorId]) throw new NotFoundError(`execution ${executionId} has no processor "${processorId}" (known: ${Object.keys(record.processors).join(", ")})`);
    return this.options.runtime.readProcessorLogs(node, executionId, processorId, options);
  }

  /** Validates, registers and stores a workflow definition; `changed` false when it was already so. */
  async putWorkflow(request: PutWorkflowRequest): Promise<{ definition: WorkflowDefinitionRecord; created: boolean; changed: boolean }> {
    const node = await this.readyNode(request.nodeId);
    const processors = normalizeProcessors(request.processors);
    const plan = this.plan(node, request.name, request.workflow, processors, undefined);
    const previous = await this.options.store.getWorkflow(node.id, request.name);
    const workflow = { ...withoutSchema(request.workflow), name: request.name };
    const contentHash = createHash("sha256").update(canonical({ workflow, processors: processors ?? null })).digest("hex");
    const registered = await this.options.runtime.registerWorkflow(node, plan);
    const changed = registered.changed ?? previous?.contentHash !== contentHash;
    const now = this.now().toISOString();
    const definition: WorkflowDefinitionRecord = {
      nodeId: node.id,
      name: request.name,
      workflow,
      ...(processors ? { processors: processors as Record<string, unknown>[] } : {}),
      contentHash,
      definitionHash: registered.definitionHash,
      ...(registered.stateMachineArn ? { stateMachineArn: registered.stateMachineArn } : {}),
      createdAt: previous?.createdAt ?? now,
      updatedAt: changed || !previous ? now : previous.updatedAt,
    };
    await this.options.store.putWorkflow(definition);
    return { definition, created: !previous, changed: !previous || changed };
  }

  async getWorkflow(nodeId: string, name: string): Promise<WorkflowDefinitionRecord> {
    await this.options.nodes.get(nodeId);
    const definition = await this.options.store.getWorkflow(nodeId, name);
    if (!definition) throw new NotFoundError(`no workflow "${name}" is registered on compute node "${nodeId}"; register it with PUT /v1/nodes/${nodeId}/workflows/${name}`);
    return definition;
  }

  async listWorkflows(nodeId: string): Promise<WorkflowDefinitionRecord[]> {
    await this.options.nodes.get(nodeId);
    return this.options.store.listWorkflows(nodeId);
  }

  /** Removes the definition's state machines and what only it used; refused while one of its executions runs. */
  async deleteWorkflow(nodeId: string, name: string): Promise<void> {
    const node = await this.options.nodes.get(nodeId);
    await this.getWorkflow(nodeId, name);
    const running = await this.options.runtime.runningExecutionOf(node, { workflowName: name });
    if (running) throw new ConflictError(`execution ${running} of workflow "${name}" is running on compute node "${nodeId}"; wait for it or cancel it first`, running);
    await this.options.runtime.deleteWorkflow(node, name);
    await this.options.store.deleteWorkflow(nodeId, name);
  }

  /** After a restart: executions left unfinished without a live runner end FAILED ("interrupted"). */
  async recover(): Promise<string[]> {
    const nodes = (await this.options.store.listNodes()).filter((n) => n.status !== "destroyed");
    return this.options.runtime.recoverInterrupted(nodes);
  }

  /** Service shutdown: the executions this process runs are stopped, so no record stays RUNNING. */
  async shutdown(): Promise<void> {
    await this.options.runtime.shutdown();
    // The runs' last states reach their event logs before the process goes.
    await Promise.all(this.events.unfinished().map((id) => this.events.observe(id).catch(() => undefined)));
    await this.events.flush();
  }

  private async locate(executionId: string): Promise<{ node: NodeRecord | undefined }> {
    const ref = await this.options.store.getExecutionRef(executionId);
    if (!ref) throw new NotFoundError(`no execution "${executionId}" was started through this service`);
    return { node: await this.options.store.getNode(ref.nodeId) };
  }

  private async readyNode(nodeId: string) {
    const node = await this.options.nodes.get(nodeId);
    if (node.status !== "ready")
      throw new ConflictError(`compute node "${node.id}" is ${node.status}, not ready: wait for operation ${node.lastOperationId ?? "(none)"} to finish`, node.lastOperationId);
    return node;
  }

  private async storedSource(node: NodeRecord, name: string, processors: unknown) {
    const stored = await this.options.store.getWorkflow(node.id, name);
    if (!stored)
      throw new NotFoundError(`no workflow "${name}" is registered on compute node "${node.id}": send the workflow in the body, or register it first with PUT /v1/nodes/${node.id}/workflows/${name}`);
    return { workflow: stored.workflow as unknown as WorkflowBody, processors: processors ?? stored.processors };
  }

  private plan(node: NodeRecord, name: string, workflow: WorkflowBody, processors: unknown, invocation: object | undefined): ResolvedPlan {
    if (workflow.name !== undefined && workflow.name !== name)
      throw new ValidationError([
        { code: "workflow_name_mismatch", path: ["body", "workflow", "name"], message: `the workflow is named "${workflow.name}" but the path names "${name}": make them equal, or leave "name" out of the body` },
      ]);
    const given = (invocation ?? {}) as Record<string, unknown>;
    const { $schema: _schema, ...rest } = given;
    const config = (rest.workflowInstanceConfiguration ?? {}) as Record<string, unknown>;
    return resolvePlan(
      { ...withoutSchema(workflow), name },
      {
        processors: normalizeProcessors(processors),
        mode: node.mode,
        invocation: { ...rest, workflowInstanceConfiguration: { ...config, computeNodeId: node.id } },
      },
    );
  }
}

/** Records leave the service without server file paths: no log file paths, artifacts by relative name. */
export function publicRecord(record: ExecutionRecord): ExecutionRecord {
  return {
    ...record,
    processors: Object.fromEntries(Object.entries(record.processors).map(([id, { logFile: _logFile, ...p }]) => [id, p])),
    ...(record.artifacts ? { artifacts: Object.fromEntries(Object.entries(record.artifacts).map(([k, v]) => [k, isAbsolute(v) ? basename(v) : v])) } : {}),
  };
}

function withoutSchema(workflow: WorkflowBody): Omit<WorkflowBody, "$schema"> {
  const { $schema: _schema, ...rest } = workflow;
  return rest;
}

/** The processors file's two forms (an array, or `{$schema?, processors}`) as the array. */
function normalizeProcessors(processors: unknown): unknown[] | undefined {
  if (processors === undefined) return undefined;
  if (processors && typeof processors === "object" && !Array.isArray(processors) && Array.isArray((processors as { processors?: unknown }).processors)) return (processors as { processors: unknown[] }).processors;
  return processors as unknown[];
}

function parseStatus(status: string): ExecutionStatus {
  const parsed = ExecutionStatusSchema.safeParse(status);
  if (!parsed.success) throw new ValidationError([{ code: "invalid_status", path: ["query", "status"], message: `status must be one of ${ExecutionStatusSchema.options.join(", ")} (got "${status}")` }]);
  return parsed.data;
}

function newestFirst(a: Pick<ExecutionRecord, "createdAt" | "executionId">, b: Pick<ExecutionRecord, "createdAt" | "executionId">): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.executionId < b.executionId ? 1 : a.executionId > b.executionId ? -1 : 0;
}

const filterKey = (nodeId: string, status: string | undefined, workflow: string | undefined) => createHash("sha256").update(JSON.stringify([nodeId, status ?? null, workflow ?? null])).digest("hex").slice(0, 16);

function encodeCursor(cursor: { createdAt: string; executionId: string; filter: string }): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.executionId, cursor.filter])).toString("base64url");
}

function decodeCursor(cursor: string, filter: string): { createdAt: string; executionId: string } {
  const invalid = (why: string) => new ValidationError([{ code: "invalid_cursor", path: ["query", "cursor"], message: `cursor ${why}: pass the nextCursor of the previous page unchanged, with the same status and workflow filters, or leave it out for the first page` }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid("is not one this API returned");
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p) => typeof p === "string")) throw invalid("is not one this API returned");
  if (parsed[2] !== filter) throw invalid("was made for other filters");
  return { createdAt: parsed[0], executionId: parsed[1] };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

