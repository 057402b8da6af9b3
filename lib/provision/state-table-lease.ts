import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ConflictError } from "../errors";
import { isConditionalCheckFailed } from "../runtime/aws/errors";

/**
 * The lease item's key in the state table. The store's records all live under `node#…`, `op#…`,
 * `idem#…` and `exec#…` partition keys (see DynamoProvisionStore), so `lease#…` cannot collide with
 * any of them; its `kind` is `lease`, which none of the store's scans select.
 */
export const STATE_TABLE_LEASE_KEY = { pk: "lease#provisioner", sk: "lease" } as const;

export interface StateTableLease {
  /** Who we are in the lease item: random id, hostname and pid. */
  readonly holder: string;
  /** Stops renewing and deletes the lease item if it is still ours. */
  release(): Promise<void>;
}

export interface StateTableLeaseOptions {
  client: Pick<DynamoDBDocumentClient, "send">;
  tableName: string;
  /** A lease not renewed for this long may be taken over (its process died without releasing it). @default 30000 */
  staleMs?: number;
  /** Called once if the lease is lost (taken over, or not renewed before it expired); the service must stop. @default throws */
  onCompromised?: (err: Error) => void;
  /** Keep trying this long while another process holds the lease (a crashed holder's lease expires after `staleMs`). @default 0 */
  waitMs?: number;
  /** Pause between two acquisition attempts while waiting. @default 1000 */
  retryMs?: number;
  /** @default a random id with this host's name and pid */
  holder?: string;
  /** Epoch milliseconds. @default Date.now */
  now?: () => number;
  /** @default setTimeout / clearTimeout (unref'd: a lease does not keep the process alive) */
  timers?: LeaseTimers;
}

export interface LeaseTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LeaseTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};


/**
 * One provisioner process per DynamoDB state table, as the data-dir lock does for a data directory:
 * stack locks, operation queues and restart recovery live in the process, and a second process on
 * the same table would mark the first one's running operations interrupted and recover them.
 *
 * The lease is an item in the table itself ({@link STATE_TABLE_LEASE_KEY}) holding `holder` and
 * `expiresAt` (epoch ms). It is taken with a conditional put (absent, expired, or already ours),
 * renewed every `staleMs / 3` with a conditional update (`holder = :me`) and deleted on release.
 * A lease that was taken over, or that could not be renewed before it expired, is compromised.
 * Expiry compares the hosts' clocks, so they must agree to well within `staleMs` (NTP).
 */
export async function acquireStateTableLease(options: StateTableLeaseOptions): Promise<StateTableLease> {
  const { client, tableName } = options;
  const staleMs = options.staleMs ?? 30_000;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? realTimers;
  const holder = options.holder ?? `${randomBytes(6).toString("hex")}@${hostname()}:${process.pid}`;
  const retryMs = options.retryMs ?? 1000;
  const deadline = now() + (options.waitMs ?? 0);

  const tryAcquire = async (): Promise<number | undefined> => {
    const at = now();
    const expiresAt = at + staleMs;
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...STATE_TABLE_LEASE_KEY, kind: "lease", holder, expiresAt, acquiredAt: new Date(at).toISOString() },
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now OR holder = :me",
          ExpressionAttributeValues: { ":now": at, ":me": holder },
        }),
      );
      return expiresAt;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  };

  let expiresAt = await tryAcquire();
  while (expiresAt === undefined) {
    const left = deadline - now();
    if (left <= 0) {
      const current = await client.send(new GetCommand({ TableName: tableName, Key: STATE_TABLE_LEASE_KEY, ConsistentRead: true }));
      const other = current.Item?.holder as string | undefined;
      const until = current.Item?.expiresAt as number | undefined;
      throw new ConflictError(
        `state table ${tableName} is in use by another provisioner process (lease held by ${other ?? "an unknown holder"}` +
          `${until !== undefined ? `, expires ${new Date(until).toISOString()} unless renewed` : ""}); stop it, or start this one with another --state-table`,
        other,
      );
    }
    await new Promise<void>((resolve) => timers.setTimeout(resolve, Math.min(retryMs, left)));
    expiresAt = await tryAcquire();
  }
  return new RenewedLease(options, holder, staleMs, now, timers, expiresAt);
}

class RenewedLease implements StateTableLease {
  private timer: unknown;
  private inFlight = false;
  private done = false;
  private released?: Promise<void>;
  private readonly interval: number;

  constructor(
    private readonly options: StateTableLeaseOptions,
    readonly holder: string,
    private readonly staleMs: number,
    private readonly now: () => number,
    private readonly timers: LeaseTimers,
    /** Until when the lease is surely ours: the send time of the last successful put or update + staleMs. */
    private expiresAt: number,
  ) {
    this.interval = Math.max(1, Math.floor(staleMs / 3));
    this.schedule();
  }

  release(): Promise<void> {
    this.released ??= this.delete();
    return this.released;
  }

  private async delete() {
    this.stop();
    try {
      await this.options.client.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: STATE_TABLE_LEASE_KEY,
          ConditionExpression: "holder = :me",
          ExpressionAttributeValues: { ":me": this.holder },
        }),
      );
    } catch (err) {
      // Someone else holds it now (we were compromised): theirs to delete.
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  private stop() {
    this.done = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule() {
    if (!this.done) this.timer = this.timers.setTimeout(() => this.tick(), this.interval);
  }

  /** True when the next tick comes too late: the lease would expire before another renew could succeed. */
  private outOfTime() {
    return this.now() + this.interval >= this.expiresAt;
  }

  private tick() {
    if (this.done) return;
    // A paused process (or a stalled event loop) wakes up after its lease lapsed: another process may have run meanwhile.
    if (this.now() >= this.expiresAt) return this.compromise(new Error(`the lease on state table ${this.options.tableName} expired before it was renewed`));
    if (this.inFlight) {
      // The previous renew has not answered yet; give up once waiting longer would outlive the lease.
      if (this.outOfTime()) return this.compromise(new Error(`the lease on state table ${this.options.tableName} could not be renewed before it expires (a renew has not answered)`));
      return this.schedule();
    }
    this.inFlight = true;
    const sentAt = this.now();
    this.options.client
      .send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: STATE_TABLE_LEASE_KEY,
          UpdateExpression: "SET expiresAt = :exp",
          ConditionExpression: "holder = :me",
          ExpressionAttributeValues: { ":exp": sentAt + this.staleMs, ":me": this.holder },
        }),
      )
      .then(
        () => {
          if (!this.done) this.expiresAt = sentAt + this.staleMs;
        },
        (err: unknown) => {
          if (this.done) return;
          if (isConditionalCheckFailed(err))
            return this.compromise(new Error(`the lease on state table ${this.options.tableName} was taken over by another process`, { cause: err }));
          // Transient (throttling, network): the next tick retries, unless that would be too late.
          if (this.outOfTime())
            this.compromise(new Error(`the lease on state table ${this.options.tableName} could not be renewed before it expires: ${(err as Error).message}`, { cause: err }));
        },
      )
      .finally(() => (this.inFlight = false));
    this.schedule();
  }

  private compromise(err: Error) {
    if (this.done) return;
    this.stop();
    const onCompromised =
      this.options.onCompromised ??
      ((e: Error) => {
        throw e;
      });
    onCompromised(err);
  }
}
