import { ComputeNodeError, ConflictError, NotFoundError, UnavailableError } from "../../lib/errors";
import { EngineEventBody } from "../../lib/provision/events";
import { NodeSpec, RefreshStackOptions, StackChangeResult, StackEngine, StackOperationOptions, StackOutputs } from "../../lib/provision/stack-engine";

interface MemoryStack {
  resources: string[];
  outputs: StackOutputs;
  /** Set while an update runs, and left set by one that "crashed" (like a lock file of the diy backend). */
  lock?: string;
  pendingCreates: number;
  updates: number;
}

/**
 * Stack state shared by engine instances, as a backend is shared by processes: a new engine on the
 * same backend after a "crash" sees the stale lock and the pending creates.
 */
export class MemoryBackend {
  readonly stacks = new Map<string, MemoryStack>();
}

type Kind = "up" | "refresh" | "destroy" | "preview";

export interface MemoryEngineOptions {
  backend?: MemoryBackend;
  /** Delay before each engine event. @default 5 */
  stepMs?: number;
  /** Resources of a node's stack. @default 3 */
  resources?: number;
  available?: boolean;
}

/**
 * An in-memory StackEngine that behaves like the Automation API one: events with latency, a lock
 * per stack (a second concurrent update gets ConflictError, as ConcurrentUpdateError maps), failures
 * on demand, graceful cancel through the signal, pending creates after a crash that block updates
 * until a refresh clears them, and secret outputs.
 */
export class MemoryStackEngine implements StackEngine {
  readonly backend: MemoryBackend;
  /** Every call, in order, for assertions on what ran. */
  readonly calls: { kind: Kind | "cancel" | "outputs"; nodeId: string }[] = [];
  /** Highest number of operations that ran at once, overall. */
  maxParallel = 0;
  available: boolean;
  private running = 0;
  private readonly failures = new Map<string, Error>();
  private readonly hangs = new Set<string>();
  private readonly gates = new Map<string, Promise<void>>();
  private readonly stepMs: number;
  private readonly resources: number;

  constructor(options: MemoryEngineOptions = {}) {
    this.backend = options.backend ?? new MemoryBackend();
    this.stepMs = options.stepMs ?? 5;
    this.resources = options.resources ?? 3;
    this.available = options.available ?? true;
  }

  /** The next `kind` on the node fails with `error` after its first resource. */
  failNext(nodeId: string, kind: Kind, error: Error = new ComputeNodeError("stack_operation_failed", `creating resource: AccessDenied`)) {
    this.failures.set(`${kind}:${nodeId}`, error);
  }

  /** The next `kind` on the node never finishes (its process "crashed") during its first resource, leaving the lock and, for `up`, a pending create. */
  hangNext(nodeId: string, kind: Kind) {
    this.hangs.add(`${kind}:${nodeId}`);
  }

  /** The next `kind` on the node waits after its first event until `release` is called. */
  holdNext(nodeId: string, kind: Kind): { release: () => void } {
    let release!: () => void;
    this.gates.set(`${kind}:${nodeId}`, new Promise<void>((r) => (release = r)));
    return { release: () => release() };
  }

  async ensureAvailable() {
    if (!this.available) throw new UnavailableError("the Pulumi CLI is not available (pulumi on PATH): install it");
  }

  up(node: NodeSpec, options: StackOperationOptions = {}): Promise<StackChangeResult> {
    return this.operate("up", node, options, (stack) => {
      if (stack.pendingCreates) throw new ComputeNodeError("stack_operation_failed", `stack "${node.id}" has ${stack.pendingCreates} pending create operations: refresh with --clear-pending-creates`);
    }, async (stack, emit) => {
      const names = Array.from({ length: this.resources }, (_, i) => `urn:pulumi:${node.id}::compute-node::aws:resource::${node.id}-r${i}`);
      const changes: Record<string, number> = {};
      for (const urn of names) {
        const op = stack.resources.includes(urn) ? (stack.updates ? "update" : "same") : "create";
        await emit({ type: "resource-pre", urn, resourceType: "aws:resource", op });
        if (op === "create") stack.pendingCreates++;
        // A graceful cancel lets a resource operation in flight finish, as the engine does on SIGINT.
        await emit({ type: "resource-outputs", urn, resourceType: "aws:resource", op }, { inFlight: true });
        if (op === "create") {
          stack.pendingCreates--;
          stack.resources.push(urn);
        }
        changes[op] = (changes[op] ?? 0) + 1;
      }
      stack.updates++;
      stack.outputs = {
        computeNodeId: { value: node.id, secret: false },
        region: { value: node.region, secret: false },
        deploymentMode: { value: node.mode, secret: false },
        clusterArn: { value: `arn:aws:ecs:${node.region}:123456789012:cluster/${node.id}`, secret: false },
        apiKey: { value: "s3cr3t-value-never-shown", secret: true },
      };
      await emit({ type: "summary", resourceChanges: changes });
      return { resourceChanges: changes, outputs: stack.outputs };
    });
  }

  preview(node: NodeSpec, options: StackOperationOptions = {}) {
    return this.operate("preview", node, options, () => undefined, async () => ({ resourceChanges: { same: this.resources } }));
  }

  refresh(node: NodeSpec, options: RefreshStackOptions = {}): Promise<StackChangeResult> {
    return this.operate("refresh", node, options, (stack) => {
      if (!stack.resources.length && !stack.pendingCreates && !stack.updates) throw new NotFoundError(`stack "${node.id}" does not exist`);
    }, async (stack, emit) => {
      await emit({ type: "output", text: `Refreshing (${node.id}):` });
      if (options.clearPendingCreates) stack.pendingCreates = 0;
      for (const urn of stack.resources) await emit({ type: "resource-pre", urn, resourceType: "aws:resource", op: "refresh" });
      return { resourceChanges: { same: stack.resources.length }, outputs: stack.outputs };
    });
  }

  destroy(node: NodeSpec, options: StackOperationOptions = {}) {
    return this.operate("destroy", node, options, () => undefined, async (stack, emit) => {
      const deleted = stack.resources.length;
      for (const urn of [...stack.resources].reverse()) {
        await emit({ type: "resource-pre", urn, resourceType: "aws:resource", op: "delete" });
        stack.resources.splice(stack.resources.indexOf(urn), 1);
      }
      this.backend.stacks.delete(node.id);
      return { resourceChanges: { delete: deleted } };
    });
  }

  async cancel(node: NodeSpec) {
    this.calls.push({ kind: "cancel", nodeId: node.id });
    const stack = this.backend.stacks.get(node.id);
    if (stack) stack.lock = undefined;
  }

  async outputs(node: NodeSpec) {
    this.calls.push({ kind: "outputs", nodeId: node.id });
    const stack = this.backend.stacks.get(node.id);
    if (!stack) throw new NotFoundError(`stack "${node.id}" does not exist`);
    return stack.outputs;
  }

  private async operate<T>(
    kind: Kind,
    node: NodeSpec,
    options: StackOperationOptions,
    precheck: (stack: MemoryStack) => void,
    body: (stack: MemoryStack, emit: (event: EngineEventBody, step?: { inFlight?: boolean }) => Promise<void>) => Promise<T>,
  ): Promise<T> {
    await this.ensureAvailable();
    this.calls.push({ kind, nodeId: node.id });
    const existed = this.backend.stacks.get(node.id);
    if (!existed && kind !== "up" && kind !== "preview") throw new NotFoundError(`stack "${node.id}" does not exist`);
    const stack = existed ?? { resources: [], outputs: {}, pendingCreates: 0, updates: 0 };
    if (stack.lock) throw new ConflictError(`stack "${node.id}" is locked by another update`);
    precheck(stack);
    if (!existed) this.backend.stacks.set(node.id, stack);
    const token = `${kind}-${Math.random()}`;
    stack.lock = token;
    const key = `${kind}:${node.id}`;
    const failure = this.failures.get(key);
    this.failures.delete(key);
    const hang = this.hangs.delete(key);
    const gate = this.gates.get(key);
    this.gates.delete(key);
    this.running++;
    this.maxParallel = Math.max(this.maxParallel, this.running);
    let emitted = 0;
    const emit = async (event: EngineEventBody, step: { inFlight?: boolean } = {}) => {
      await this.sleep(step.inFlight ? undefined : options.signal);
      options.onEvent?.({ ...event, timestamp: new Date().toISOString() });
      emitted++;
      if (emitted === 1 && gate) await new Promise<void>((r) => { void gate.then(r); options.signal?.addEventListener("abort", () => r(), { once: true }); });
      // A crash mid-create: the resource's create started (pending in the state) and never finished.
      if (emitted === 2 && hang) await new Promise<never>(() => undefined);
      if (emitted === 1 && failure) throw failure;
    };
    try {
      const result = await body(stack, emit);
      return result;
    } catch (err) {
      if (options.signal?.aborted) options.onEvent?.({ type: "cancel", timestamp: new Date().toISOString() });
      throw err;
    } finally {
      this.running--;
      if (stack.lock === token) stack.lock = undefined;
    }
  }

  private sleep(signal?: AbortSignal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new ComputeNodeError("stack_operation_failed", "update canceled"));
      const timer = setTimeout(resolve, this.stepMs);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new ComputeNodeError("stack_operation_failed", "update canceled"));
      }, { once: true });
    });
  }
}
