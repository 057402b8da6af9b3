import { createHash } from "node:crypto";
import { ComputeNodeError } from "../errors";
import { OperationRecord } from "./records";
import { ProvisionStore } from "./store";
import { Clock, systemClock } from "../clock";

/** The Idempotency-Key was used before with a different request. HTTP 422. */
export class IdempotencyKeyReusedError extends ComputeNodeError {
  override name = "IdempotencyKeyReusedError";
  constructor(key: string) {
    super("idempotency_key_reused", `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request`);
  }
}

/** A stable fingerprint of a request: method, path and body with object keys sorted. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash("sha256").update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

/** One call per key at a time in this process: a concurrent repeat waits for the call in flight, then runs (and so looks at the store) again. */
class OnePerKey<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  async run(key: string, once: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) {
      // Whatever the first request's outcome, look again: bound (replay or 422) or free (run).
      await pending.catch(() => undefined);
      return this.run(key, once);
    }
    // Registered before the first await, so a concurrent repeat always finds it.
    const result = once();
    this.inFlight.set(key, result);
    try {
      return await result;
    } finally {
      this.inFlight.delete(key);
    }
  }
}

/**
 * Makes a mutating request safe to retry: the first request with a key runs and binds the key to
 * its operation; a repeat with the same fingerprint gets that operation back without running
 * again; a repeat with another fingerprint is refused. A request that fails binds nothing, so it
 * can be retried with the same key. Concurrent repeats in this process wait for the first.
 */
export class IdempotencyGuard {
  private readonly inFlight = new OnePerKey<{ operation: OperationRecord; replayed: boolean }>();

  constructor(
    private readonly store: ProvisionStore,
    private readonly getOperation: (id: string) => Promise<OperationRecord>,
    private readonly now: Clock = systemClock,
  ) {}

  run(key: string, fingerprint: string, action: () => Promise<OperationRecord>): Promise<{ operation: OperationRecord; replayed: boolean }> {
    return this.inFlight.run(key, () => this.runOnce(key, fingerprint, action));
  }

  private async runOnce(key: string, fingerprint: string, action: () => Promise<OperationRecord>) {
    const bound = await this.store.getIdempotencyKey(key);
    if (bound) {
      if (bound.fingerprint !== fingerprint || !bound.operationId) throw new IdempotencyKeyReusedError(key);
      return { operation: await this.getOperation(bound.operationId), replayed: true };
    }
    const operation = await action();
    const existing = await this.store.claimIdempotencyKey({ key, fingerprint, operationId: operation.id, createdAt: this.now().toISOString() });
    if (existing && existing.operationId !== operation.id) throw new Error(`internal: Idempotency-Key "${key}" was bound by another process meanwhile`);
    return { operation, replayed: false };
  }
}

/**
 * The same contract for `POST …/executions`: the first start with a key binds it to its execution;
 * a repeat with the same request gets that execution back without a second start; a repeat with
 * another request is refused (422). A start that fails binds nothing.
 */
export class ExecutionIdempotencyGuard {
  private readonly inFlight = new OnePerKey<{ executionId: string; replayed: boolean }>();

  constructor(
    private readonly store: ProvisionStore,
    private readonly now: Clock = systemClock,
  ) {}

  run(key: string, fingerprint: string, start: () => Promise<string>): Promise<{ executionId: string; replayed: boolean }> {
    return this.inFlight.run(key, () => this.runOnce(key, fingerprint, start));
  }

  private async runOnce(key: string, fingerprint: string, start: () => Promise<string>) {
    const bound = await this.store.getIdempotencyKey(key);
    if (bound) {
      if (bound.fingerprint !== fingerprint || !bound.executionId) throw new IdempotencyKeyReusedError(key);
      return { executionId: bound.executionId, replayed: true };
    }
    const executionId = await start();
    const existing = await this.store.claimIdempotencyKey({ key, fingerprint, executionId, createdAt: this.now().toISOString() });
    if (existing && existing.executionId !== executionId) throw new Error(`internal: Idempotency-Key "${key}" was bound by another process meanwhile`);
    return { executionId, replayed: false };
  }
}
