import { mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { ExecutionRecord, ExecutionRecordSchema, ProcessorRunState, advanceProcessorState } from "../model/execution-record";
import { ExecutionRecordStore } from "../model/record-store";
import { Clock, systemClock } from "../clock";

type ExecutionPatch = Parameters<ExecutionRecordStore["updateExecution"]>[1];

const RECORD_FILE = "record.json";
// Execution ids become directory names: refuse anything that could climb out of the store.
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertSafeExecutionId(executionId: string): void {
  if (!SAFE_ID.test(executionId) || executionId.includes(".."))
    throw new ValidationError([{ code: "invalid_execution_id", path: ["executionId"], message: `execution id "${executionId}" must be 1–128 characters of [A-Za-z0-9._-] and start with a letter or digit` }]);
}

/**
 * Execution records as files: `<root>/<executionId>/record.json`, written atomically (temp file + rename)
 * so a reader never sees half a record and a crash never loses the previous one. The snapshot is
 * written by `create` and carried over unchanged by every update.
 *
 * Updates to one execution are serialised and coalesced in this process: many processors finishing
 * at once cost one write, not one each. Only one process (the runner) writes a given execution.
 */
export class FileRecordStore implements ExecutionRecordStore {
  private readonly cache = new Map<string, ExecutionRecord>();
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();

  private readonly lastWrite = new Map<string, number>();

  /**
   * @param root directory holding one sub-directory per execution (the runner uses `<workdir>/executions`).
   * @param options.minWriteIntervalMs spacing between two writes of one record; updates arriving
   * meanwhile share the next write. Large runs rewrite a big record thousands of times without it. @default 0
   * @param options.now the clock that spacing is measured by. @default the system clock
   */
  constructor(
    readonly root: string,
    private readonly options: { minWriteIntervalMs?: number; now?: Clock } = {},
  ) {}

  /** Directory of one execution's record and logs. */
  executionDir(executionId: string): string {
    assertSafeExecutionId(executionId);
    return join(this.root, executionId);
  }

  async create(record: ExecutionRecord): Promise<void> {
    const parsed = ExecutionRecordSchema.parse(record);
    const dir = this.executionDir(parsed.executionId);
    await mkdir(this.root, { recursive: true });
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new ConflictError(`execution "${parsed.executionId}" already exists in ${this.root}`, parsed.executionId, { cause: err });
      throw err;
    }
    this.cache.set(parsed.executionId, parsed);
    await atomicWrite(join(dir, RECORD_FILE), parsed);
  }

  async get(executionId: string): Promise<ExecutionRecord | undefined> {
    const cached = this.cache.get(executionId);
    if (cached) return structuredClone(cached);
    return this.readFromDisk(executionId);
  }

  async list(): Promise<ExecutionRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const records = await Promise.all(names.filter((n) => SAFE_ID.test(n)).map((n) => this.get(n).catch(() => undefined)));
    return records.filter((r): r is ExecutionRecord => r !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async updateProcessor(executionId: string, processorId: string, state: ProcessorRunState): Promise<ExecutionRecord> {
    return this.update(executionId, (record) => {
      const current = record.processors[processorId];
      if (!current) throw new NotFoundError(`execution "${executionId}" has no processor "${processorId}"`);
      record.processors[processorId] = advanceProcessorState(current, state);
    });
  }

  async updateExecution(executionId: string, patch: ExecutionPatch): Promise<ExecutionRecord> {
    return this.update(executionId, (record) => {
      for (const [key, value] of Object.entries(patch)) if (value !== undefined) (record as Record<string, unknown>)[key] = value;
    });
  }

  private async update(executionId: string, apply: (record: ExecutionRecord) => void): Promise<ExecutionRecord> {
    let record = this.cache.get(executionId);
    if (!record) {
      record = await this.readFromDisk(executionId);
      if (!record) throw new NotFoundError(`no execution "${executionId}" in ${this.root}`);
      record = this.cache.get(executionId) ?? record;
      this.cache.set(executionId, record);
    }
    apply(record);
    // Shallow copies suffice: updates replace processor states and fields, never mutate them, and
    // cloning the whole snapshot on every update is what made large runs slow.
    const snapshot = { ...record, processors: { ...record.processors } };
    await this.flush(executionId);
    return snapshot;
  }

  /** Writes the cached record; callers arriving while a write is under way share the next one. */
  private flush(executionId: string): Promise<void> {
    this.dirty.add(executionId);
    const running = this.flushes.get(executionId) ?? Promise.resolve();
    const next = running.then(async () => {
      if (!this.dirty.has(executionId)) return;
      const now = this.options.now ?? systemClock;
      const wait = (this.lastWrite.get(executionId) ?? 0) + (this.options.minWriteIntervalMs ?? 0) - now().getTime();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.dirty.delete(executionId);
      this.lastWrite.set(executionId, now().getTime());
      await atomicWrite(join(this.executionDir(executionId), RECORD_FILE), this.cache.get(executionId)!);
    });
    const tracked = next.finally(() => {
      if (this.flushes.get(executionId) === tracked) this.flushes.delete(executionId);
    });
    this.flushes.set(executionId, tracked);
    return next;
  }

  private async readFromDisk(executionId: string): Promise<ExecutionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.executionDir(executionId), RECORD_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    return ExecutionRecordSchema.parse(JSON.parse(text));
  }
}

async function atomicWrite(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + "\n", { mode: 0o644 });
  await rename(temp, path);
}
