import { randomBytes } from "node:crypto";
import { appendFile, chmod, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as lockfile from "proper-lockfile";
import { ExecutionLlmTotals, LlmUsageRecord, USAGE_RETENTION_DAYS, emptyExecutionTotals, usdFromNano } from "./contract";
import { BudgetCounter, CounterState, Reservation, ReserveOutcome, Settlement, UsageQuery, UsageStore, abandonedUsage, executionCounterKey } from "./store";

interface StoredCounter extends CounterState {
  level: string;
  window: string;
  capNano: number;
  expiresAt: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  byModel: Record<string, { calls: number; inputTokens: number; outputTokens: number; costNano: number }>;
}

interface State {
  version: 1;
  counters: Record<string, StoredCounter>;
  reservations: Record<string, Reservation>;
}

export interface FileUsageStoreOptions {
  /** Holds `state.json` (budgets, reservations, totals) and `usage/<day>.jsonl`. */
  dir: string;
  /** Another process's lock older than this is taken over (a crashed holder). @default 10000 */
  staleLockMs?: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The local usage store: budgets, reservations and totals in one JSON file replaced atomically
 * (write, then rename), usage items appended to one JSON-lines file per day. Every change runs under
 * an in-process queue and a lock file (`proper-lockfile`), so concurrent calls of this process and of
 * other processes sharing the directory see each other's reservations: a cap holds across all of them.
 */
export class FileUsageStore implements UsageStore {
  private readonly dir: string;
  private readonly stateFile: string;
  private readonly usageDir: string;
  private queue: Promise<unknown> = Promise.resolve();
  private ready?: Promise<void>;

  constructor(private readonly options: FileUsageStoreOptions) {
    this.dir = resolve(options.dir);
    this.stateFile = join(this.dir, "state.json");
    this.usageDir = join(this.dir, "usage");
  }

  reserve(reservation: Reservation): Promise<ReserveOutcome> {
    return this.mutate((state) => {
      for (const counter of reservation.counters) {
        const committed = state.counters[counter.key]?.committedNano ?? 0;
        if (committed + reservation.amountNano > counter.capNano) return { reserved: false as const, counter, committedNano: committed };
      }
      for (const counter of reservation.counters) {
        const stored = (state.counters[counter.key] ??= newCounter(counter));
        stored.committedNano += reservation.amountNano;
        stored.capNano = counter.capNano;
        stored.expiresAt = Math.max(stored.expiresAt, counter.expiresAt);
      }
      state.reservations[reservation.id] = reservation;
      return { reserved: true as const };
    });
  }

  async settle(settlement: Settlement): Promise<void> {
    const { reservation, costNano, usage } = settlement;
    await this.mutate((state) => {
      // A reservation the sweeper already freed gave its whole amount back: the real cost is then added in full.
      const held = state.reservations[reservation.id] !== undefined;
      delete state.reservations[reservation.id];
      for (const counter of reservation.counters) {
        const stored = (state.counters[counter.key] ??= newCounter(counter));
        stored.committedNano += costNano - (held ? reservation.amountNano : 0);
        stored.spentNano += costNano;
        stored.calls += 1;
        stored.inputTokens += usage.inputTokens;
        stored.outputTokens += usage.outputTokens;
        stored.cacheCreationInputTokens += usage.cacheCreationInputTokens;
        stored.cacheReadInputTokens += usage.cacheReadInputTokens;
        stored.expiresAt = Math.max(stored.expiresAt, counter.expiresAt);
        if (counter.level === "execution") {
          const m = (stored.byModel[usage.model] ??= { calls: 0, inputTokens: 0, outputTokens: 0, costNano: 0 });
          m.calls += 1;
          m.inputTokens += usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens;
          m.outputTokens += usage.outputTokens;
          m.costNano += costNano;
        }
      }
      return undefined;
    });
    // After the budget change: losing an audit line to a crash is better than losing a charge.
    await this.append(usage);
  }

  async release(reservation: Reservation, usage: LlmUsageRecord): Promise<void> {
    await this.mutate((state) => {
      if (state.reservations[reservation.id] === undefined) return undefined;
      delete state.reservations[reservation.id];
      for (const counter of reservation.counters) {
        const stored = state.counters[counter.key];
        if (stored) stored.committedNano -= reservation.amountNano;
      }
      return undefined;
    });
    await this.append(usage);
  }

  recordRefusal(usage: LlmUsageRecord): Promise<void> {
    return this.append(usage);
  }

  async sweepExpired(now: Date): Promise<number> {
    const freed = await this.mutate((state) => {
      const expired: Reservation[] = [];
      for (const [id, reservation] of Object.entries(state.reservations)) {
        if (reservation.expiresAtMs > now.getTime()) continue;
        delete state.reservations[id];
        for (const counter of reservation.counters) {
          const stored = state.counters[counter.key];
          if (stored) stored.committedNano -= reservation.amountNano;
        }
        expired.push(reservation);
      }
      const held = new Set(Object.values(state.reservations).flatMap((r) => r.counters.map((c) => c.key)));
      for (const [key, counter] of Object.entries(state.counters)) if (counter.expiresAt * 1000 < now.getTime() && !held.has(key)) delete state.counters[key];
      return expired;
    });
    for (const reservation of freed) await this.append(abandonedUsage(reservation, now));
    await this.pruneUsage(now);
    return freed.length;
  }

  async counters(keys: string[]): Promise<Map<string, CounterState>> {
    const state = await this.read();
    return new Map(keys.map((k) => [k, { committedNano: state.counters[k]?.committedNano ?? 0, spentNano: state.counters[k]?.spentNano ?? 0 }]));
  }

  async executionTotals(executionId: string): Promise<ExecutionLlmTotals> {
    const stored = (await this.read()).counters[executionCounterKey(executionId)];
    if (!stored) return emptyExecutionTotals(executionId);
    return {
      executionId,
      calls: stored.calls,
      inputTokens: stored.inputTokens,
      outputTokens: stored.outputTokens,
      cacheCreationInputTokens: stored.cacheCreationInputTokens,
      cacheReadInputTokens: stored.cacheReadInputTokens,
      costUsd: usdFromNano(stored.spentNano),
      reservedUsd: usdFromNano(stored.committedNano - stored.spentNano),
      byModel: Object.fromEntries(Object.entries(stored.byModel).map(([m, v]) => [m, { calls: v.calls, inputTokens: v.inputTokens, outputTokens: v.outputTokens, costUsd: usdFromNano(v.costNano) }])),
    };
  }

  async usage(query: UsageQuery): Promise<LlmUsageRecord[]> {
    const files = (await readdir(this.usageDir).catch(() => [] as string[])).filter((f) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f)).sort();
    const since = query.since?.toISOString().slice(0, 10);
    const until = query.until.toISOString().slice(0, 10);
    const out: LlmUsageRecord[] = [];
    for (const file of files) {
      const day = file.slice(0, 10);
      if ((since && day < since) || day > until) continue;
      const text = await readFile(join(this.usageDir, file), "utf8");
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        let record: LlmUsageRecord;
        try {
          record = JSON.parse(line) as LlmUsageRecord;
        } catch {
          // A line cut short by a crash mid-append: skip it, the others are whole.
          continue;
        }
        if (query.executionId && record.executionId !== query.executionId) continue;
        if (query.since && record.startedAt < query.since.toISOString()) continue;
        if (record.startedAt > query.until.toISOString()) continue;
        out.push(record);
      }
    }
    return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  private init(): Promise<void> {
    return (this.ready ??= (async () => {
      await mkdir(this.usageDir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700);
    })());
  }

  private async read(): Promise<State> {
    const text = await readFile(this.stateFile, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (!text) return { version: 1, counters: {}, reservations: {} };
    return JSON.parse(text) as State;
  }

  /** Runs `change` on the latest state under the queue and the lock, then replaces the file when it changed anything. */
  private mutate<T>(change: (state: State) => T): Promise<T> {
    const run = async () => {
      await this.init();
      const release = await lockfile.lock(this.stateFile, {
        realpath: false,
        stale: this.options.staleLockMs ?? 10_000,
        retries: { retries: 200, factor: 1.3, minTimeout: 2, maxTimeout: 100, randomize: true },
      });
      try {
        const state = await this.read();
        const before = JSON.stringify(state);
        const result = change(state);
        const after = JSON.stringify(state);
        if (after !== before) {
          const tmp = `${this.stateFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
          await writeFile(tmp, after, { mode: 0o600 });
          await rename(tmp, this.stateFile);
        }
        return result;
      } finally {
        await release();
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async append(usage: LlmUsageRecord): Promise<void> {
    await this.init();
    await appendFile(join(this.usageDir, `${usage.startedAt.slice(0, 10)}.jsonl`), JSON.stringify(usage) + "\n", { mode: 0o600 });
  }

  private async pruneUsage(now: Date): Promise<void> {
    const oldest = new Date(now.getTime() - USAGE_RETENTION_DAYS * DAY_MS).toISOString().slice(0, 10);
    for (const file of await readdir(this.usageDir).catch(() => [] as string[]))
      if (/^\d{4}-\d{2}-\d{2}\.jsonl$/.test(file) && file.slice(0, 10) < oldest) await rm(join(this.usageDir, file), { force: true });
  }
}

function newCounter(counter: BudgetCounter): StoredCounter {
  return {
    level: counter.level,
    window: counter.window,
    capNano: counter.capNano,
    expiresAt: counter.expiresAt,
    committedNano: 0,
    spentNano: 0,
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    byModel: {},
  };
}

