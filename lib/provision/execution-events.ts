import { ExecutionRecord, ExecutionStatus, isTerminalExecutionStatus, ProcessorStatus } from "../model/execution-record";
import { systemClock } from "../clock";

/** A status change of an execution or of one of its processors, as `GET /v1/executions/{id}/events` streams it. */
export type ExecutionEventBody =
  | { type: "execution-status"; status: ExecutionStatus; error?: { error: string; cause?: string } }
  | { type: "processor-status"; processorId: string; status: ProcessorStatus; exitCode?: number; cause?: string };

/** `sequence` starts at 1 and grows by one per execution; the last event is an `execution-status` with a terminal status. */
export type ExecutionEvent = { sequence: number; timestamp: string; executionId: string } & ExecutionEventBody;

interface Observed {
  status: ExecutionStatus;
  processors: Record<string, ProcessorStatus>;
}

/**
 * Turns successive readings of a record into status events, in order. A change both sides of
 * which were missed between two readings is filled in (a processor seen NOT_STARTED then SUCCEEDED
 * also gets its STARTED; a run seen PENDING then finished also gets RUNNING), so a stream always
 * shows the whole path.
 */
export function diffRecord(before: Observed, record: ExecutionRecord): ExecutionEventBody[] {
  const events: ExecutionEventBody[] = [];
  const terminal = isTerminalExecutionStatus(record.status);
  const status = record.status;
  if (before.status === "PENDING" && status !== "PENDING" && status !== "RUNNING" && record.startedAt) events.push({ type: "execution-status", status: "RUNNING" });
  if (status !== before.status && !terminal && status !== "CANCELING") events.push({ type: "execution-status", status });
  const changes: { at: string; id: string; body: ExecutionEventBody }[] = [];
  for (const [id, state] of Object.entries(record.processors)) {
    const was = before.processors[id] ?? "NOT_STARTED";
    if (state.status === was) continue;
    if (was === "NOT_STARTED" && state.status !== "STARTED" && state.startedAt) changes.push({ at: state.startedAt, id, body: { type: "processor-status", processorId: id, status: "STARTED" } });
    if (state.status !== "NOT_STARTED")
      changes.push({
        at: (state.status === "STARTED" ? state.startedAt : state.finishedAt) ?? "",
        id,
        body: { type: "processor-status", processorId: id, status: state.status, ...(state.exitCode !== undefined ? { exitCode: state.exitCode } : {}), ...(state.cause ? { cause: state.cause } : {}) },
      });
  }
  // Stable: by time, then processor id; a processor's own STARTED stays before its end.
  changes.sort((a, b) => (a.at === b.at ? a.id.localeCompare(b.id) : a.at.localeCompare(b.at)));
  const cancelingFirst = status === "CANCELING" && before.status !== "CANCELING";
  if (cancelingFirst) events.push({ type: "execution-status", status: "CANCELING" });
  events.push(...changes.map((c) => c.body));
  if (terminal && status !== before.status) events.push({ type: "execution-status", status, ...(record.error ? { error: record.error } : {}) });
  return events;
}

const observedOf = (record: ExecutionRecord): Observed => ({ status: record.status, processors: Object.fromEntries(Object.entries(record.processors).map(([id, p]) => [id, p.status])) });

interface Log {
  events: ExecutionEvent[];
  observed: Observed;
  listeners: Set<(event: ExecutionEvent) => void>;
  finished: boolean;
  /** Appends to the store, in order. */
  persisted: Promise<void>;
}

/** Where event logs outlive the process (the provision store). */
export interface ExecutionEventLogStore {
  appendExecutionEvent(event: ExecutionEvent): Promise<void>;
  readExecutionEvents(executionId: string): Promise<ExecutionEvent[]>;
}

/** The state a log's events lead to: what the next reading is compared with. */
function replay(events: ExecutionEvent[]): Observed {
  const observed: Observed = { status: "PENDING", processors: {} };
  for (const event of events) {
    if (event.type === "execution-status") observed.status = event.status;
    else observed.processors[event.processorId] = event.status;
  }
  return observed;
}

export interface ExecutionEventHubOptions {
  /** Reads the execution's current record. */
  read: (executionId: string) => Promise<ExecutionRecord>;
  /** How often a watched execution's record is read. @default 250 */
  pollMs?: number;
  /** Finished executions whose logs are kept in memory; older ones are read back from `store`. @default 1000 */
  maxFinished?: number;
  /** Persists the logs, so ids survive a restart. @default memory only */
  store?: ExecutionEventLogStore;
  now?: () => Date;
}

/**
 * The event log of each execution: built from the record's readings (the first reading fills in the
 * path from PENDING) and appended to the store, so ids are stable across restarts and a stream
 * resumed with Last-Event-ID gets only later events. A log read back from the store goes on from
 * the state its events lead to.
 */
export class ExecutionEventHub {
  private readonly logs = new Map<string, Log>();
  private readonly polling = new Map<string, Promise<void>>();
  private readonly finishedOrder: string[] = [];
  private readonly loading = new Map<string, Promise<Log>>();

  constructor(private readonly options: ExecutionEventHubOptions) {}

  /**
   * Events after `after`, then every later one to `listener` until the terminal status.
   * `live` false means the execution has finished and the backlog is all there is.
   */
  async watch(executionId: string, after: number, listener: (event: ExecutionEvent) => void): Promise<{ backlog: ExecutionEvent[]; live: boolean; unsubscribe: () => void }> {
    const log = await this.observe(executionId);
    const backlog = log.events.filter((e) => e.sequence > after);
    if (log.finished) return { backlog, live: false, unsubscribe: () => undefined };
    log.listeners.add(listener);
    this.poll(executionId, log);
    return { backlog, live: true, unsubscribe: () => log.listeners.delete(listener) };
  }

  /** Reads the record now and appends what changed; the runtime calls it when it knows something changed. */
  async observe(executionId: string): Promise<Log> {
    const record = await this.options.read(executionId);
    const log = await this.load(executionId);
    if (!log.finished) {
      this.append(executionId, log, diffRecord(log.observed, record));
      log.observed = observedOf(record);
      if (isTerminalExecutionStatus(record.status)) {
        log.finished = true;
        this.finishedOrder.push(executionId);
        this.evict();
      }
    }
    return log;
  }

  /** Executions whose logs have not reached a terminal status yet. */
  unfinished(): string[] {
    return [...this.logs].filter(([, log]) => !log.finished).map(([id]) => id);
  }

  /** Resolves once every event so far is in the store (service shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.persisted));
  }

  private evict() {
    const max = this.options.maxFinished ?? 1000;
    while (this.finishedOrder.length > max) {
      const oldest = this.finishedOrder.shift()!;
      const log = this.logs.get(oldest);
      // Dropped once its events are in the store: a later reader gets them all back from there.
      void log?.persisted.then(() => {
        if (this.logs.get(oldest) === log && log.listeners.size === 0) this.logs.delete(oldest);
      });
    }
  }

  /** The log in memory, else read back from the store, else a new one starting at PENDING; one per execution even when asked for concurrently. */
  private load(executionId: string): Promise<Log> {
    const known = this.logs.get(executionId);
    if (known) return Promise.resolve(known);
    let loading = this.loading.get(executionId);
    if (!loading) {
      loading = (async () => {
        const stored = (await this.options.store?.readExecutionEvents(executionId)) ?? [];
        const events = stored.filter((e, i) => e.sequence === i + 1);
        const log: Log = { events, observed: replay(events), listeners: new Set(), finished: false, persisted: Promise.resolve() };
        const last = events[events.length - 1];
        log.finished = last?.type === "execution-status" && isTerminalExecutionStatus(last.status);
        if (!events.length) this.append(executionId, log, [{ type: "execution-status", status: "PENDING" }]);
        this.logs.set(executionId, log);
        if (log.finished) this.finishedOrder.push(executionId);
        return log;
      })().finally(() => this.loading.delete(executionId));
      this.loading.set(executionId, loading);
    }
    return loading;
  }

  private append(executionId: string, log: Log, bodies: ExecutionEventBody[]) {
    const now = (this.options.now ?? systemClock)().toISOString();
    for (const body of bodies) {
      const event = { sequence: log.events.length + 1, timestamp: now, executionId, ...body } as ExecutionEvent;
      log.events.push(event);
      const store = this.options.store;
      // A failed append loses that event for a later process only; this one still streams it.
      if (store) log.persisted = log.persisted.then(() => store.appendExecutionEvent(event)).catch(() => undefined);
      for (const listener of [...log.listeners]) listener(event);
    }
  }

  private poll(executionId: string, log: Log) {
    if (this.polling.has(executionId)) return;
    const loop = (async () => {
      while (!log.finished && log.listeners.size > 0) {
        await new Promise((r) => setTimeout(r, this.options.pollMs ?? 250));
        await this.observe(executionId).catch(() => undefined);
      }
    })().finally(() => this.polling.delete(executionId));
    this.polling.set(executionId, loop);
  }
}
