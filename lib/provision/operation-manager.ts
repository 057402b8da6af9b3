import { randomBytes } from "node:crypto";
import { ConflictError, NotFoundError, isComputeNodeError } from "../errors";
import { OperationErrorInfo, OperationEvent, OperationEventBody, OperationKind, TerminalOperationState, isTerminalOperationState } from "./events";
import { OperationRecord } from "./records";
import { ProvisionStore } from "./store";
import { systemClock } from "../clock";

/** What a running operation's work gets: its record, an abort signal for cancel, and an event sink. */
export interface OperationContext {
  readonly operation: Readonly<OperationRecord>;
  readonly signal: AbortSignal;
  emit(body: OperationEventBody): void;
}

export type OperationWork = (ctx: OperationContext) => Promise<{ resourceChanges: Record<string, number> } | void>;

/**
 * A node's stack lock, held from the moment a mutating call is accepted until its operation
 * finishes. Taking it is synchronous, so two requests can never both get it.
 */
export interface NodeLease {
  readonly nodeId: string;
  /** Id the operation will have; known before it starts so the node record can point at it. */
  readonly operationId: string;
  /** Gives the lock back when the operation is not going to be started after all. */
  release(): void;
}

export interface OperationManagerOptions {
  store: ProvisionStore;
  /** Stack operations running at once across all nodes; more wait as `queued`. @default 4 */
  maxConcurrent?: number;
  now?: () => Date;
  newOperationId?: () => string;
  /** Failures that are not ComputeNodeErrors are logged here, and shown to callers without detail. */
  onInternalError?: (err: unknown, operationId: string) => void;
  /** Called once per operation when it is finished (for logs and metrics). */
  onFinished?: (operation: OperationRecord) => void;
}

interface ActiveOperation {
  record: OperationRecord;
  events: OperationEvent[];
  listeners: Set<(event: OperationEvent) => void>;
  controller: AbortController;
  work: OperationWork;
  writes: Promise<void>;
  settled: Promise<void>;
  resolveSettled: () => void;
}

export function newOperationId(now: Date): string {
  return `op-${now.getTime().toString(36)}-${randomBytes(5).toString("hex")}`;
}

/**
 * Runs stack operations: one per node at a time (a second gets ConflictError naming the first),
 * up to `maxConcurrent` across nodes, each persisted with its events so a restart can tell what was
 * interrupted. Events get a per-operation sequence; the last one is always `operation-finished`.
 */
export class OperationManager {
  private readonly store: ProvisionStore;
  private readonly maxConcurrent: number;
  private readonly now: () => Date;
  private readonly newId: () => string;
  private readonly onInternalError: (err: unknown, operationId: string) => void;
  private readonly onFinished: (operation: OperationRecord) => void;
  private readonly locks = new Map<string, string>();
  private readonly active = new Map<string, ActiveOperation>();
  private readonly queue: ActiveOperation[] = [];
  private running = 0;

  constructor(options: OperationManagerOptions) {
    this.store = options.store;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 4);
    this.now = options.now ?? systemClock;
    this.newId = options.newOperationId ?? (() => newOperationId(this.now()));
    this.onInternalError = options.onInternalError ?? (() => undefined);
    this.onFinished = options.onFinished ?? (() => undefined);
  }

  /** The operation holding a node's stack, if any. */
  holderOf(nodeId: string): string | undefined {
    return this.locks.get(nodeId);
  }

  /** Takes a node's lock or throws ConflictError with the holding operation's id. */
  lease(nodeId: string): NodeLease {
    const holder = this.locks.get(nodeId);
    if (holder) throw new ConflictError(`compute node "${nodeId}" is busy with operation ${holder}; wait for it to finish or cancel it`, holder);
    const operationId = this.newId();
    this.locks.set(nodeId, operationId);
    let released = false;
    return {
      nodeId,
      operationId,
      release: () => {
        if (released || this.active.has(operationId)) return;
        released = true;
        if (this.locks.get(nodeId) === operationId) this.locks.delete(nodeId);
      },
    };
  }

  /** Persists the operation as `queued` and runs it when a slot is free; resolves with the queued record. */
  async start(lease: NodeLease, kind: OperationKind, work: OperationWork, extra: { recoversOperationId?: string } = {}): Promise<OperationRecord> {
    if (this.locks.get(lease.nodeId) !== lease.operationId) throw new Error(`internal: lease of ${lease.operationId} on "${lease.nodeId}" is no longer held`);
    let resolveSettled!: () => void;
    const active: ActiveOperation = {
      record: { id: lease.operationId, nodeId: lease.nodeId, kind, state: "queued", createdAt: this.now().toISOString(), ...extra },
      events: [],
      listeners: new Set(),
      controller: new AbortController(),
      work,
      writes: Promise.resolve(),
      settled: new Promise<void>((resolve) => (resolveSettled = resolve)),
      resolveSettled: () => resolveSettled(),
    };
    this.active.set(active.record.id, active);
    try {
      await this.store.putOperation(active.record);
    } catch (err) {
      this.active.delete(active.record.id);
      this.locks.delete(lease.nodeId);
      throw err;
    }
    this.emit(active, { type: "operation-queued", kind, nodeId: lease.nodeId });
    this.queue.push(active);
    this.pump();
    return structuredClone(active.record);
  }

  async get(operationId: string): Promise<OperationRecord> {
    const active = this.active.get(operationId);
    if (active) return structuredClone(active.record);
    const stored = await this.store.getOperation(operationId);
    if (!stored) throw new NotFoundError(`no operation "${operationId}"`);
    return stored;
  }

  /**
   * Cancels a queued operation at once, or asks a running one to stop (its engine call is aborted;
   * it ends `cancelled`, or `succeeded` if it finished first). Finished operations give ConflictError.
   */
  async cancel(operationId: string): Promise<OperationRecord> {
    const active = this.active.get(operationId);
    // Finished but still flushing its events counts as finished.
    if (!active || isTerminalOperationState(active.record.state)) {
      const stored = await this.get(operationId);
      throw new ConflictError(`operation ${operationId} already finished (${stored.state}); nothing to cancel`, operationId);
    }
    if (active.record.state === "queued") {
      this.queue.splice(this.queue.indexOf(active), 1);
      active.record.cancelRequested = true;
      this.emit(active, { type: "cancel-requested" });
      await this.finish(active, "cancelled", { code: "cancelled", message: "cancelled before it started" });
    } else if (!active.record.cancelRequested) {
      active.record.cancelRequested = true;
      await this.store.putOperation(active.record);
      this.emit(active, { type: "cancel-requested" });
      active.controller.abort(new CancelledError(operationId));
    }
    return structuredClone(active.record);
  }

  /**
   * Calls `listener` with every event after `afterSequence`, then (when `live`) with new ones until
   * the operation finishes. The last event delivered is always `operation-finished`.
   */
  async watch(operationId: string, afterSequence: number, listener: (event: OperationEvent) => void): Promise<{ live: boolean; unsubscribe: () => void }> {
    const active = this.active.get(operationId);
    if (active) {
      // Replay and subscribe in one synchronous step, so no event falls in between.
      for (const event of active.events) if (event.sequence > afterSequence) listener(event);
      if (active.events.at(-1)?.type === "operation-finished") return { live: false, unsubscribe: () => undefined };
      active.listeners.add(listener);
      return { live: true, unsubscribe: () => active.listeners.delete(listener) };
    }
    await this.get(operationId);
    const stored = await this.store.readEvents(operationId);
    for (const event of stored) if (event.sequence > afterSequence) listener(event);
    return { live: false, unsubscribe: () => undefined };
  }

  /** Resolves when the operation is finished (at once if it already is). */
  async settled(operationId: string): Promise<OperationRecord> {
    const active = this.active.get(operationId);
    if (active) await active.settled;
    return this.get(operationId);
  }

  /** Whether the operation is queued or running in this process (its events are still coming). */
  isActive(operationId: string): boolean {
    return this.active.has(operationId);
  }

  /** Operations not finished yet, in this process. */
  activeOperations(): OperationRecord[] {
    return [...this.active.values()].map((a) => structuredClone(a.record));
  }

  /**
   * Marks every operation the store says was unfinished (a previous process stopped while it ran)
   * as `interrupted`, closing its event stream. Call once at startup, before accepting requests.
   */
  async markInterrupted(): Promise<OperationRecord[]> {
    const unfinished = (await this.store.listUnfinishedOperations()).filter((op) => !this.active.has(op.id));
    const marked: OperationRecord[] = [];
    for (const op of unfinished) {
      const error = { code: "interrupted", message: "the service stopped while this operation ran; a recover operation released the stack lock and refreshed the stack" };
      const record: OperationRecord = { ...op, state: "interrupted", finishedAt: this.now().toISOString(), error };
      const events = await this.store.readEvents(op.id);
      const last = events.reduce((max, e) => Math.max(max, e.sequence), 0);
      if (!events.some((e) => e.type === "operation-finished"))
        await this.store.appendEvent({ sequence: last + 1, timestamp: record.finishedAt!, operationId: op.id, type: "operation-finished", state: "interrupted", error });
      await this.store.putOperation(record);
      marked.push(record);
    }
    return marked;
  }

  /** Cancels everything running or queued and waits for it to settle (graceful shutdown). */
  async shutdown(): Promise<void> {
    const all = [...this.active.values()];
    await Promise.all(all.map((a) => this.cancel(a.record.id).catch(() => undefined)));
    await Promise.all(all.map((a) => a.settled));
  }

  private pump() {
    while (this.running < this.maxConcurrent && this.queue.length) {
      const next = this.queue.shift()!;
      this.running++;
      void this.run(next).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(active: ActiveOperation) {
    const { record } = active;
    record.state = "running";
    record.startedAt = this.now().toISOString();
    let state: TerminalOperationState = "succeeded";
    let error: OperationErrorInfo | undefined;
    try {
      await this.store.putOperation(record);
      this.emit(active, { type: "operation-started", kind: record.kind, nodeId: record.nodeId });
      const ctx: OperationContext = { operation: record, signal: active.controller.signal, emit: (body) => this.emit(active, body) };
      const summary = await active.work(ctx);
      if (summary) record.summary = { resourceChanges: summary.resourceChanges };
    } catch (err) {
      if (active.controller.signal.aborted) {
        state = "cancelled";
        error = { code: "cancelled", message: "cancelled while running; the engine stopped gracefully" };
      } else {
        state = "failed";
        error = toOperationError(err);
        if (error.code === "internal") this.onInternalError(err, record.id);
      }
    }
    await this.finish(active, state, error);
  }

  private async finish(active: ActiveOperation, state: TerminalOperationState, error?: OperationErrorInfo) {
    const final: OperationRecord = { ...active.record, state, finishedAt: this.now().toISOString(), ...(error ? { error } : {}) };
    try {
      await this.store.putOperation(final);
    } catch (err) {
      this.onInternalError(err, final.id);
    }
    // Terminal state and lock release become visible in the same tick: whoever sees the operation
    // finished can start the next one on the node.
    active.record = final;
    if (this.locks.get(final.nodeId) === final.id) this.locks.delete(final.nodeId);
    this.emit(active, { type: "operation-finished", state, ...(error ? { error } : {}) });
    await active.writes;
    this.active.delete(final.id);
    active.listeners.clear();
    active.resolveSettled();
    this.onFinished(structuredClone(final));
  }

  private emit(active: ActiveOperation, body: OperationEventBody) {
    const event = { ...body, sequence: active.events.length + 1, timestamp: this.now().toISOString(), operationId: active.record.id } as OperationEvent;
    active.events.push(event);
    active.writes = active.writes.then(() => this.store.appendEvent(event)).catch((err) => this.onInternalError(err, active.record.id));
    for (const listener of active.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onInternalError(err, active.record.id);
      }
    }
  }
}

/** The reason an operation's signal is aborted with. */
export class CancelledError extends Error {
  override name = "CancelledError";
  constructor(readonly operationId: string) {
    super(`operation ${operationId} was cancelled`);
  }
}

/** What callers see of a failure: our errors keep their code and message; anything else is hidden. */
export function toOperationError(err: unknown): OperationErrorInfo {
  if (isComputeNodeError(err)) {
    const holderId = (err as { holderId?: string }).holderId;
    return { code: err.code, message: err.message, ...(holderId ? { holderId } : {}) };
  }
  return { code: "internal", message: "internal error while running the operation; see the service log for this operation id" };
}

export { isTerminalOperationState };
