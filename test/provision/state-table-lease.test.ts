import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoProvisionStore, provisionTableDefinition } from "../../lib/provision/dynamo-store";
import { acquireStateTableLease, LeaseTimers, STATE_TABLE_LEASE_KEY, StateTableLease } from "../../lib/provision/state-table-lease";
import { ConflictError } from "../../lib/errors";
import { runServe } from "../../lib/cli/commands/serve";
import { CliIo } from "../../lib/cli/io";
import { startMoto } from "./moto";

/** Timers that only fire when the test says so: a holder that stopped renewing (a paused or dead process). */
function frozenTimers() {
  const pending: (() => void)[] = [];
  const timers: LeaseTimers = { setTimeout: (fn) => pending.push(fn), clearTimeout: () => undefined };
  return { timers, fire: () => pending.splice(0).forEach((fn) => fn()) };
}

/**
 * Time that moves only when the test advances it: leases read `now` and schedule renewals on
 * `timers`, and `advance` runs each due timer in order, letting the DynamoDB calls it starts
 * answer before the next. A loaded machine is slower, never wrong.
 */
class ManualClock {
  private t = Date.UTC(2026, 0, 1);
  private queue: { at: number; id: number; fn: () => void }[] = [];
  private ids = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  readonly now = () => this.t;
  readonly timers: LeaseTimers = {
    setTimeout: (fn, ms) => {
      const id = ++this.ids;
      this.queue.push({ at: this.t + ms, id, fn });
      return id;
    },
    clearTimeout: (handle) => {
      this.queue = this.queue.filter((q) => q.id !== handle);
    },
  };
  /** The client, with every call tracked so `advance` can wait for it. */
  track(client: Pick<DynamoDBDocumentClient, "send">): Pick<DynamoDBDocumentClient, "send"> {
    return {
      send: ((command: never) => {
        const call = client.send(command);
        this.inFlight.add(call);
        call.then(
          () => this.inFlight.delete(call),
          () => this.inFlight.delete(call),
        );
        return call;
      }) as DynamoDBDocumentClient["send"],
    };
  }
  /** Until no call is in flight and every callback they started has run. */
  async settle() {
    do {
      await Promise.allSettled([...this.inFlight]);
      await new Promise((r) => setImmediate(r));
    } while (this.inFlight.size);
  }
  async advance(ms: number) {
    const target = this.t + ms;
    for (;;) {
      await this.settle();
      const due = this.queue.filter((q) => q.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.queue = this.queue.filter((q) => q !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = target;
    await this.settle();
  }
  /** Advances in steps until `promise` settles; returns what it settled with. */
  async until<T>(promise: Promise<T>, stepMs: number): Promise<{ value?: T; error?: unknown }> {
    let outcome: { value?: T; error?: unknown } | undefined;
    promise.then(
      (value) => (outcome = { value }),
      (error) => (outcome = { error }),
    );
    while (!outcome) await this.advance(stepMs);
    return outcome;
  }
}

describe("acquireStateTableLease (moto)", function () {
  this.timeout(30000);
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let doc: DynamoDBDocumentClient;
  let table: string;
  let tableNo = 0;
  const held: StateTableLease[] = [];
  const acquire = async (options: Partial<Parameters<typeof acquireStateTableLease>[0]> = {}) => {
    const lease = await acquireStateTableLease({ client: doc, tableName: table, ...options });
    held.push(lease);
    return lease;
  };
  const item = async () => (await doc.send(new GetCommand({ TableName: table, Key: STATE_TABLE_LEASE_KEY, ConsistentRead: true }))).Item;

  before(async () => {
    moto = await startMoto();
    doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 }));
  });
  after(() => moto?.stop());
  beforeEach(async () => {
    table = `cn-lease-${++tableNo}`;
    await doc.send(new CreateTableCommand(provisionTableDefinition(table)));
  });
  afterEach(async () => {
    await Promise.all(held.splice(0).map((l) => l.release().catch(() => undefined)));
  });

  it("takes a free lease, records its holder and expiry, and stays out of the store's listings", async () => {
    const clock = new ManualClock();
    const lease = await acquire({ staleMs: 10_000, now: clock.now, timers: clock.timers });
    const stored = (await item())!;
    expect(stored.holder).to.equal(lease.holder);
    expect(lease.holder).to.match(/^[0-9a-f]{12}@.+:\d+$/);
    expect(stored.expiresAt).to.equal(clock.now() + 10_000);
    const store = new DynamoProvisionStore({ client: doc, tableName: table });
    expect(await store.listNodes()).to.deep.equal([]);
    expect(await store.listUnfinishedOperations()).to.deep.equal([]);
    await lease.release();
    expect(await item()).to.equal(undefined);
  });

  it("refuses a second holder while the first renews, naming the table and the holder", async () => {
    const clock = new ManualClock();
    const on = { now: clock.now, timers: clock.timers, client: clock.track(doc) };
    const first = await acquire({ staleMs: 600, ...on });
    const { expiresAt: firstExpiry } = (await item())!;
    // Well past the first expiry: only renewals keep the lease.
    await clock.advance(900);
    expect((await item())!.expiresAt).to.be.greaterThan(firstExpiry as number);
    const started = clock.now();
    const { error } = await clock.until(acquire({ staleMs: 600, waitMs: 1_200, ...on }), 100);
    expect(error).to.be.instanceOf(ConflictError);
    expect((error as ConflictError).message).to.include(table).and.include(first.holder).and.include("--state-table");
    expect((error as ConflictError).holderId).to.equal(first.holder);
    expect(clock.now() - started).to.be.at.least(1_200);
    expect((await item())!.holder).to.equal(first.holder);
  });

  it("takes over a lease its holder stopped renewing once it expires", async () => {
    const clock = new ManualClock();
    const dead = await acquire({ staleMs: 800, now: clock.now, timers: frozenTimers().timers });
    const refused = await acquire({ staleMs: 800, now: clock.now, timers: clock.timers }).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(ConflictError);
    const started = clock.now();
    const { value: next } = await clock.until(acquire({ staleMs: 800, waitMs: 5_000, retryMs: 100, now: clock.now, timers: clock.timers, client: clock.track(doc) }), 100);
    // The first attempt after the dead lease's expiry (800 ms) succeeds.
    expect(clock.now() - started).to.be.within(800, 1_000);
    expect(next!.holder).to.not.equal(dead.holder);
    expect((await item())!.holder).to.equal(next!.holder);
  });

  it("reports a compromised lease when another holder took it over", async () => {
    const clock = new ManualClock();
    const lost: Error[] = [];
    const first = await acquire({ staleMs: 1_500, now: clock.now, timers: clock.timers, client: clock.track(doc), onCompromised: (err) => lost.push(err) });
    // A host whose clock runs a minute ahead sees the lease as expired and takes it.
    const second = await acquire({ staleMs: 30_000, now: () => clock.now() + 60_000, timers: frozenTimers().timers });
    // The first renews at 500 ms, and finds the lease another's.
    await clock.advance(600);
    expect(lost).to.have.length(1);
    expect(lost[0].message).to.include(table).and.include("taken over");
    // Its release leaves the new holder's lease alone.
    await first.release();
    expect((await item())!.holder).to.equal(second.holder);
  });

  it("reports a compromised lease when its process wakes up after the lease expired", async () => {
    const clock = new ManualClock();
    const paused = frozenTimers();
    const lost: Error[] = [];
    await acquire({ staleMs: 300, now: clock.now, timers: paused.timers, onCompromised: (err) => lost.push(err) });
    await clock.advance(400);
    paused.fire();
    expect(lost).to.have.length(1);
    expect(lost[0].message).to.include("expired before it was renewed");
  });

  it("rides out a failed renew, but reports a compromised lease before it expires when renewing keeps failing", async () => {
    const failing = (fail: (n: number) => boolean) => {
      let updates = 0;
      return {
        send: ((command: unknown) => {
          if (command instanceof UpdateCommand && fail(++updates)) return Promise.reject(Object.assign(new Error("socket hang up"), { name: "TimeoutError" }));
          return doc.send(command as never);
        }) as DynamoDBDocumentClient["send"],
      };
    };
    const clock = new ManualClock();
    const lostOnce: Error[] = [];
    const flaky = await acquire({ client: clock.track(failing((n) => n === 1)), staleMs: 600, now: clock.now, timers: clock.timers, onCompromised: (err) => lostOnce.push(err) });
    await clock.advance(1_000);
    expect(lostOnce).to.deep.equal([]);
    expect((await item())!.expiresAt).to.be.greaterThan(clock.now());
    await flaky.release();

    const lost: { err: Error; at: number }[] = [];
    const acquiredAt = clock.now();
    // Renews every 500 ms: fails at 500, retries and fails at 1000, and would be too late at 1500.
    await acquire({ client: clock.track(failing(() => true)), staleMs: 1_500, now: clock.now, timers: clock.timers, onCompromised: (err) => lost.push({ err, at: clock.now() }) });
    await clock.advance(1_800);
    expect(lost).to.have.length(1);
    expect(lost[0].err.message).to.include("could not be renewed before it expires").and.include("socket hang up");
    // Reported after a retry, and before the lease expired: no one else could have taken it yet.
    expect(lost[0].at - acquiredAt).to.equal(1_000);
  });

  it("releases so the next process gets it at once", async () => {
    const clock = new ManualClock();
    const on = { now: clock.now, timers: clock.timers, client: clock.track(doc) };
    const first = await acquire({ staleMs: 30_000, ...on });
    const started = clock.now();
    const waiting = acquire({ waitMs: 10_000, retryMs: 100, ...on });
    await clock.advance(300);
    await first.release();
    const { value: next } = await clock.until(waiting, 100);
    // The next attempt after the release.
    expect(clock.now() - started).to.be.within(300, 400);
    expect((await item())!.holder).to.equal(next!.holder);
    await next!.release();
    expect(await item()).to.equal(undefined);
  });

  it("keeps its lease when asked again by the same holder (a restart with the same identity)", async () => {
    const first = await acquire({ staleMs: 30_000, holder: "me@host:1" });
    const again = await acquire({ staleMs: 30_000, holder: "me@host:1" });
    expect(again.holder).to.equal(first.holder);
  });

  describe("compute-node serve --state-table", () => {
    const saved: Record<string, string | undefined> = {};
    let dir: string;
    before(() => {
      for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) saved[k] = process.env[k];
      process.env.AWS_ACCESS_KEY_ID = "test";
      process.env.AWS_SECRET_ACCESS_KEY = "test";
    });
    after(() => {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
    beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "cn-lease-serve-"))));
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it("refuses a second process on the same state table (another data dir) while the first runs, and releases the lease on stop", async () => {
      const tokenFile = join(dir, "token");
      await writeFile(tokenFile, "file-token-0123456789\n", { mode: 0o600 });
      const env = { PATH: join(dir, "empty-bin"), PULUMI_SKIP_UPDATE_CHECK: "true", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint };
      const io = (): CliIo => ({ stdout: () => undefined, stderr: () => undefined, cwd: dir, env });
      const options = (dataDir: string) => ({ port: 0, host: "127.0.0.1", local: true, dataDir: join(dir, dataDir), tokenFile, insecureNoAuth: false, maxConcurrentOperations: 2, lockWaitSeconds: 1, stateTable: table });
      let stop!: () => void;
      const stopped = new Promise<void>((r) => (stop = r));
      let listening!: () => void;
      const ready = new Promise<void>((r) => (listening = r));
      const first = runServe(options("a"), io(), { onListening: () => listening(), stopped });
      await ready;
      try {
        expect((await item())?.holder).to.be.a("string");
        await runServe(options("b"), io(), { stopped: Promise.resolve() });
        expect.fail("a second process started on a state table in use");
      } catch (err) {
        expect((err as Error).name).to.equal("ConflictError");
        expect((err as Error).message).to.include(table).and.include("--state-table");
      } finally {
        stop();
      }
      expect(await first).to.equal(0);
      expect(await item()).to.equal(undefined);
    });
  });
});
