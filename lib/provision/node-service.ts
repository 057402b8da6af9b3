import { ConflictError, NotFoundError } from "../errors";
import { DeploymentMode } from "../model/mode";
import { OperationKind } from "./events";
import { NodeLease, OperationContext, OperationManager } from "./operation-manager";
import { NodeRecord, NodeStatus, OperationRecord } from "./records";
import { NodeSpec, PreviewResult, StackEngine, StackOperationOptions, StackOutputs } from "./stack-engine";
import { ProvisionStore } from "./store";
import { WorkflowRuntime } from "./workflow-runtime";
import { systemClock } from "../clock";

export interface CreateNodeRequest {
  id: string;
  mode: DeploymentMode;
  region: string;
  options: Record<string, unknown>;
}

export interface UpdateNodeRequest {
  mode?: DeploymentMode;
  options?: Record<string, unknown>;
}

export interface NodeServiceOptions {
  store: ProvisionStore;
  manager: OperationManager;
  engine: StackEngine;
  runtime: WorkflowRuntime;
  /** Checks a node spec against the node program's config schema; throws ValidationError. */
  validateSpec?: (spec: NodeSpec) => void;
  now?: () => Date;
}

export interface NodeOperationResult {
  node: NodeRecord;
  operation: OperationRecord;
}

const BUSY: NodeStatus[] = ["creating", "updating", "destroying"];

/**
 * The compute node lifecycle: each mutating call takes the node's lock, records the intended
 * state, and runs the stack change as an asynchronous operation.
 */
export class NodeService {
  private readonly now: () => Date;

  constructor(private readonly options: NodeServiceOptions) {
    this.now = options.now ?? systemClock;
  }

  /** A live node; destroyed ones are gone (NotFoundError), as after any DELETE. */
  async get(id: string): Promise<NodeRecord> {
    const node = await this.find(id);
    if (!node) throw new NotFoundError(`no compute node "${id}"`);
    if (node.status === "destroyed") throw new NotFoundError(`compute node "${id}" was destroyed by operation ${node.lastOperationId ?? "(unknown)"}; create it again with POST /v1/nodes`);
    return node;
  }

  /** The stored record, destroyed nodes included (for answers about their last operation). */
  find(id: string): Promise<NodeRecord | undefined> {
    return this.options.store.getNode(id);
  }

  async list(): Promise<NodeRecord[]> {
    return (await this.options.store.listNodes()).filter((node) => node.status !== "destroyed");
  }

  async create(request: CreateNodeRequest): Promise<NodeOperationResult> {
    const spec: NodeSpec = { id: request.id, mode: request.mode, region: request.region, options: request.options };
    this.options.validateSpec?.(spec);
    const existing = await this.options.store.getNode(request.id);
    if (existing && existing.status !== "destroyed")
      throw new ConflictError(`compute node "${request.id}" already exists (${existing.status}); update it with PATCH or delete it first`, existing.lastOperationId);
    await this.options.engine.ensureAvailable();
    return this.mutate(request.id, "create", (lease) => {
      const now = this.now().toISOString();
      return { ...spec, status: "creating", createdAt: now, updatedAt: now, lastOperationId: lease.operationId };
    }, (ctx, node) => this.converge(ctx, node));
  }

  async update(id: string, request: UpdateNodeRequest): Promise<NodeOperationResult> {
    const node = await this.get(id);
    const spec: NodeSpec = { id, mode: request.mode ?? node.mode, region: node.region, options: request.options ?? node.options };
    this.options.validateSpec?.(spec);
    await this.options.engine.ensureAvailable();
    return this.mutate(id, "update", (lease) => ({ ...node, ...spec, status: "updating", updatedAt: this.now().toISOString(), lastOperationId: lease.operationId }), (ctx, next) =>
      this.converge(ctx, next),
    );
  }

  /**
   * What `update` with this request would change, from the engine's preview; changes nothing and
   * records no operation. The node's stored spec is the base. It holds the node's lock while it
   * runs (the engine's per-stack work directory is not shared), so it is refused (409) while an
   * operation runs, and a mutating call meanwhile is too.
   */
  async preview(id: string, request: UpdateNodeRequest): Promise<PreviewResult & { spec: NodeSpec }> {
    const node = await this.get(id);
    const spec: NodeSpec = { id, mode: request.mode ?? node.mode, region: node.region, options: request.options ?? node.options };
    this.options.validateSpec?.(spec);
    await this.options.engine.ensureAvailable();
    const lease = this.options.manager.lease(id);
    try {
      const result = await this.options.engine.preview(spec);
      return { ...result, spec };
    } finally {
      lease.release();
    }
  }

  /** Destroys the node's stack after the per-node cleanup; refuses while an execution runs unless `force`. */
  async destroy(id: string, options: { force: boolean }): Promise<NodeOperationResult> {
    const node = await this.get(id);
    const running = await this.options.runtime.runningExecutionOf(node);
    if (running && !options.force)
      throw new ConflictError(`execution ${running} is running on compute node "${id}"; wait for it, or destroy with ?force=true to stop it`, running);
    await this.options.engine.ensureAvailable();
    return this.mutate(id, "destroy", (lease) => ({ ...node, status: "destroying", updatedAt: this.now().toISOString(), lastOperationId: lease.operationId }), async (ctx, current) => {
      ctx.emit({ type: "cleanup-started", nodeId: id, force: options.force });
      await this.options.runtime.cleanupNode(current, options);
      ctx.emit({ type: "cleanup-finished", nodeId: id });
      // No stack (a create that failed before the engine made one) is already the goal.
      const result = await this.options.engine.destroy(specOf(current), engineOptions(ctx)).catch((err) => {
        if (err instanceof NotFoundError) return { resourceChanges: {} };
        throw err;
      });
      await this.saveNode({ ...current, status: "destroyed", outputs: undefined, secretOutputs: undefined });
      // Its workflow definitions went with it: a node created again under the same id starts without them.
      for (const workflow of await this.options.store.listWorkflows(id)) await this.options.store.deleteWorkflow(id, workflow.name);
      return result;
    });
  }

  /**
   * After a restart: marks interrupted operations, then runs a `recover` operation per affected
   * node that releases the stack lock (cancel) and refreshes the state, so the node accepts
   * updates and deletes again. Nodes left in a transitional status without an operation become `failed`.
   */
  async recover(): Promise<OperationRecord[]> {
    const interrupted = await this.options.manager.markInterrupted();
    const lastByNode = new Map<string, OperationRecord>();
    for (const op of interrupted) lastByNode.set(op.nodeId, op);
    const started: OperationRecord[] = [];
    for (const [nodeId, op] of lastByNode) {
      const node = await this.options.store.getNode(nodeId);
      if (!node) continue;
      const lease = this.options.manager.lease(nodeId);
      await this.saveNode({ ...node, lastOperationId: lease.operationId });
      started.push(
        await this.options.manager.start(lease, "recover", (ctx) => this.recoverNode(ctx, node, op), { recoversOperationId: op.id }),
      );
    }
    for (const node of await this.options.store.listNodes()) {
      if (BUSY.includes(node.status) && !this.options.manager.holderOf(node.id)) await this.saveNode({ ...node, status: "failed" });
    }
    return started;
  }

  private async recoverNode(ctx: OperationContext, recorded: NodeRecord, interrupted: OperationRecord) {
    const node = (await this.options.store.getNode(recorded.id)) ?? recorded;
    const spec = specOf(node);
    await this.options.engine.cancel(spec);
    try {
      const result = await this.options.engine.refresh(spec, { ...engineOptions(ctx), clearPendingCreates: true });
      // The interrupted change may be half done: the node works, but says so until the next update.
      await this.saveNode({ ...node, status: "failed", ...publicOutputs(result.outputs) });
      return result;
    } catch (err) {
      if (!(err instanceof NotFoundError)) {
        await this.saveNode({ ...node, status: "failed" });
        throw err;
      }
      // No stack: a create that never got that far, or a destroy that completed.
      await this.saveNode({ ...node, status: interrupted.kind === "destroy" ? "destroyed" : "failed", outputs: undefined, secretOutputs: undefined });
      return { resourceChanges: {} };
    }
  }

  private async converge(ctx: OperationContext, node: NodeRecord) {
    const result = await this.options.engine.up(specOf(node), engineOptions(ctx));
    await this.saveNode({ ...node, status: "ready", ...publicOutputs(result.outputs) });
    return result;
  }

  private async mutate(
    id: string,
    kind: OperationKind,
    intended: (lease: NodeLease) => NodeRecord,
    work: (ctx: OperationContext, node: NodeRecord) => Promise<{ resourceChanges: Record<string, number> }>,
  ): Promise<NodeOperationResult> {
    const lease = this.options.manager.lease(id);
    let node: NodeRecord;
    try {
      node = intended(lease);
      await this.saveNode(node);
    } catch (err) {
      lease.release();
      throw err;
    }
    const operation = await this.options.manager.start(lease, kind, async (ctx) => {
      try {
        return await work(ctx, node);
      } catch (err) {
        const current = (await this.options.store.getNode(id)) ?? node;
        await this.saveNode({ ...current, status: "failed" });
        throw err;
      }
    });
    return { node, operation };
  }

  private async saveNode(node: NodeRecord) {
    const clean = Object.fromEntries(Object.entries({ ...node, updatedAt: this.now().toISOString() }).filter(([, v]) => v !== undefined)) as NodeRecord;
    await this.options.store.putNode(clean);
  }
}

function specOf(node: NodeRecord): NodeSpec {
  return { id: node.id, mode: node.mode, region: node.region, options: node.options };
}

function engineOptions(ctx: OperationContext): StackOperationOptions {
  return {
    signal: ctx.signal,
    onEvent: ({ timestamp: _timestamp, ...body }) => ctx.emit(body),
  };
}

/** Splits stack outputs into what the API may show and the names of the secret ones. */
export function publicOutputs(outputs: StackOutputs): { outputs: Record<string, unknown>; secretOutputs: string[] } {
  const shown: Record<string, unknown> = {};
  const secret: string[] = [];
  for (const [name, output] of Object.entries(outputs).sort(([a], [b]) => a.localeCompare(b))) {
    if (output.secret) secret.push(name);
    else shown[name] = output.value;
  }
  return { outputs: shown, secretOutputs: secret };
}
