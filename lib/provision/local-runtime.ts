import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rename, writeFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { ConflictError, NotFoundError, ValidationError, ValidationIssue } from "../errors";
import { ExecutionRecord, ExecutionRecordSchema, isTerminalExecutionStatus } from "../model/execution-record";
import { ResolvedPlan } from "../plan/resolve";
import type { startLocalExecution, LocalRunOptions } from "../runtime/local/runner";
import { localRecordStore } from "../runtime/local/records";
import { assertSafeExecutionId } from "../runtime/file-record-store";
import { systemClock } from "../clock";
import { fileURLToPath } from "node:url";
import { isS3Destination } from "../model/invocation";
import { NodeRecord } from "./records";
import { ProcessorLogOptions, RegisterWorkflowResult, RunningExecutionFilter, StartExecutionRequest, WorkflowRuntime } from "./workflow-runtime";

export interface LocalWorkflowRuntimeOptions {
  /** Each node's runner workdir is `<root>/<nodeId>`. */
  root: string;
  /** `inputDir` of a request is resolved inside this directory and may not leave it. @default `<root>/inputs` */
  inputRoot?: string;
  /** A directory `outputs` of a request is resolved inside this directory and may not leave it (API clients must not write anywhere else on this machine). @default `<root>/outputs` */
  outputRoot?: string;
  /** Passed to the runner (tests swap Docker detection, concurrency). */
  runnerOptions?: Partial<Pick<LocalRunOptions, "concurrency" | "dockerReachable" | "env" | "commandCwd" | "compile">>;
  start?: typeof startLocalExecution;
  /** How often a followed log is read again. @default 100 */
  logPollMs?: number;
  /** @default systemClock */
  now?: () => Date;
}

interface RunningExecution {
  controller: AbortController;
  done: Promise<unknown>;
  workflowName: string;
  /** Set by a cancel: when, and which processors the record showed STARTED then. */
  cancel?: { at: string; started: Set<string> };
}

/** Runs executions in-process with the embedded local runner; records live under each node's workdir. */
export class LocalWorkflowRuntime implements WorkflowRuntime {
  readonly backend = "local" as const;
  private readonly running = new Map<string, Map<string, RunningExecution>>();
  private readonly inputRoot: string;
  private readonly outputRoot: string;
  private readonly now: () => Date;

  constructor(private readonly options: LocalWorkflowRuntimeOptions) {
    this.inputRoot = resolve(options.inputRoot ?? join(options.root, "inputs"));
    this.outputRoot = resolve(options.outputRoot ?? join(options.root, "outputs"));
    this.now = options.now ?? systemClock;
  }

  async startExecution({ node, plan, inputDir }: StartExecutionRequest): Promise<{ executionId: string }> {
    const workdir = this.workdir(node.id);
    await mkdir(workdir, { recursive: true });
    const input = inputDir === undefined ? await this.emptyInputDir(workdir) : this.resolveInput(inputDir);
    // Loaded on the first start: the runner brings the embedded Step Functions interpreter, which
    // restart recovery, lists and reads never need (`serve --local` answers sooner).
    const start = this.options.start ?? (require("../runtime/local/runner") as typeof import("../runtime/local/runner")).startLocalExecution;
    const controller = new AbortController();
    const outputs = plan.invocation.outputs;
    const confined = outputs === undefined || isS3Destination(outputs) ? plan : { ...plan, invocation: { ...plan.invocation, outputs: this.resolveOutputs(outputs) } };
    const execution = start({ ...this.options.runnerOptions, plan: confined, inputDir: input, workdir, signal: controller.signal });
    const running = this.running.get(node.id) ?? new Map<string, RunningExecution>();
    this.running.set(node.id, running);
    const entry: RunningExecution = { controller, done: Promise.resolve(), workflowName: plan.workflow.name };
    // A cancelled run is CANCELED before it stops counting as running: nobody sees it ABORTED in between.
    // One that finished on its own before the abort took effect keeps its status.
    const finished = execution.done
      .then(async (record) => (entry.cancel && record.status === "ABORTED" ? this.markCanceled(workdir, record, entry.cancel) : record))
      .finally(() => running.delete(execution.executionId));
    entry.done = finished.catch(() => undefined);
    running.set(execution.executionId, entry);
    // The record exists once the runner wrote its snapshot; a refusal (bad input, no Docker) comes first.
    await Promise.race([finished.then(() => undefined), this.waitForRecord(workdir, execution.executionId, finished)]);
    finished.catch(() => undefined);
    return { executionId: execution.executionId };
  }

  async getExecution(node: NodeRecord | undefined, executionId: string): Promise<ExecutionRecord> {
    assertSafeExecutionId(executionId);
    const record = node ? await localRecordStore(this.workdir(node.id)).get(executionId) : undefined;
    if (!record) throw new NotFoundError(`no execution "${executionId}" on compute node "${node?.id ?? "(unknown)"}"`);
    return this.present(node!, record);
  }

  async listExecutions(node: NodeRecord): Promise<ExecutionRecord[]> {
    const records = await localRecordStore(this.workdir(node.id)).list();
    return records.map((record) => this.present(node, record));
  }

  async runningExecutionOf(node: NodeRecord, filter: RunningExecutionFilter = {}): Promise<string | undefined> {
    for (const [id, entry] of this.running.get(node.id) ?? []) if (filter.workflowName === undefined || entry.workflowName === filter.workflowName) return id;
    return undefined;
  }

  async cancelExecution(node: NodeRecord, executionId: string): Promise<ExecutionRecord> {
    const entry = this.running.get(node.id)?.get(executionId);
    const record = await this.getExecution(node, executionId);
    if (!entry) {
      if (record.status === "CANCELED") return record;
      if (isTerminalExecutionStatus(record.status)) throw new ConflictError(`execution ${executionId} already finished with status ${record.status}; only a running execution can be cancelled`, executionId);
      throw new ConflictError(`execution ${executionId} is ${record.status} but no runner of this service runs it (a restart marks it FAILED)`, executionId);
    }
    if (!entry.cancel) {
      const started = new Set(Object.entries(record.processors).filter(([, p]) => p.status === "STARTED").map(([id]) => id));
      entry.cancel = { at: this.now().toISOString(), started };
      entry.controller.abort();
    }
    return this.present(node, record);
  }

  async *readProcessorLogs(node: NodeRecord, executionId: string, processorId: string, options: ProcessorLogOptions = {}): AsyncIterable<string> {
    assertSafeExecutionId(executionId);
    const store = localRecordStore(this.workdir(node.id));
    const raw = async () => {
      const record = await store.get(executionId);
      if (!record) throw new NotFoundError(`no execution "${executionId}" on compute node "${node.id}"`);
      const processor = record.processors[processorId];
      if (!processor) throw new NotFoundError(`execution ${executionId} has no processor "${processorId}" (known: ${Object.keys(record.processors).join(", ")})`);
      return { record, processor };
    };
    let offset = 0;
    for (;;) {
      const { record, processor } = await raw();
      // Read the state before the file: a processor that ended has written its whole log by then.
      const ended = !["NOT_STARTED", "STARTED"].includes(processor.status) || isTerminalExecutionStatus(record.status);
      if (processor.logFile) {
        const chunk = await readFrom(processor.logFile, offset);
        offset += chunk.length;
        if (chunk.length) yield chunk.toString("utf8");
      }
      if (!options.follow || ended || options.signal?.aborted) return;
      await new Promise((r) => setTimeout(r, this.options.logPollMs ?? 100));
    }
  }

  async registerWorkflow(node: NodeRecord, plan: ResolvedPlan): Promise<RegisterWorkflowResult> {
    // Locally, registering is compiling: the runner compiles again from the plan at each start.
    const compile = this.options.runnerOptions?.compile ?? (require("../runtime/local/compile-local") as typeof import("../runtime/local/compile-local")).compileForLocal;
    const bundle = compile(plan, { efsMountPath: join(this.workdir(node.id), "efs"), computeNodeId: node.id });
    return { definitionHash: createHash("sha256").update(JSON.stringify([bundle.definition, [...bundle.children]])).digest("hex") };
  }

  async deleteWorkflow(): Promise<void> {
    // Local executions register nothing that outlives them.
  }

  async recoverInterrupted(nodes: NodeRecord[]): Promise<string[]> {
    const marked: string[] = [];
    for (const node of nodes) {
      const live = this.running.get(node.id);
      for (const record of await localRecordStore(this.workdir(node.id)).list()) {
        if (isTerminalExecutionStatus(record.status) || live?.has(record.executionId)) continue;
        const at = this.now().toISOString();
        const processors = Object.fromEntries(
          Object.entries(record.processors).map(([id, p]) => [id, p.status === "STARTED" ? { ...p, status: "FAILED" as const, finishedAt: at, cause: "interrupted: the service stopped while it ran" } : p]),
        );
        await this.writeRecord(this.workdir(node.id), { ...record, status: "FAILED", finishedAt: at, error: { error: "Interrupted", cause: "interrupted: the service that ran it stopped before it finished" }, processors });
        marked.push(record.executionId);
      }
    }
    return marked;
  }

  async shutdown(): Promise<void> {
    const entries = [...this.running.values()].flatMap((m) => [...m.values()]);
    for (const entry of entries) entry.controller.abort();
    await Promise.all(entries.map((e) => e.done));
  }

  async cleanupNode(node: NodeRecord, options: { force: boolean }): Promise<void> {
    const running = await this.runningExecutionOf(node);
    if (running && !options.force) throw new ConflictError(`execution ${running} is still running on compute node "${node.id}"`, running);
    // Forced: stop them (records end ABORTED). Local executions register nothing that outlives them.
    const executions = [...(this.running.get(node.id)?.values() ?? [])];
    for (const execution of executions) execution.controller.abort();
    await Promise.all(executions.map((e) => e.done));
  }

  /** What the API may show: CANCELING while a cancel is under way, paths relative to the node's directory, no log file paths. */
  private present(node: NodeRecord, record: ExecutionRecord): ExecutionRecord {
    const entry = this.running.get(node.id)?.get(record.executionId);
    const workdir = resolve(this.workdir(node.id));
    const rel = (path: string) => {
      if (!isAbsolute(path)) return path;
      const r = relative(workdir, path);
      return r.startsWith("..") || isAbsolute(r) ? basename(path) : r;
    };
    return {
      ...record,
      ...(entry?.cancel && !isTerminalExecutionStatus(record.status) ? { status: "CANCELING" as const } : {}),
      processors: Object.fromEntries(Object.entries(record.processors).map(([id, { logFile: _logFile, ...p }]) => [id, p])),
      ...(record.artifacts ? { artifacts: Object.fromEntries(Object.entries(record.artifacts).map(([k, v]) => [k, rel(v)])) } : {}),
      ...(record.outputs ? { outputs: this.presentOutputs(record.outputs) } : {}),
      // The runner was given the destination resolved inside the output root; the client gave it relative to there.
      ...(record.snapshot.invocation.outputs && isAbsolute(record.snapshot.invocation.outputs)
        ? { snapshot: { ...record.snapshot, invocation: { ...record.snapshot.invocation, outputs: relative(this.outputRoot, record.snapshot.invocation.outputs) || "." } } }
        : {}),
    };
  }

  /** Directory destinations as the client gave them: relative to the output root, never this machine's absolute paths. */
  private presentOutputs(outputs: NonNullable<ExecutionRecord["outputs"]>): NonNullable<ExecutionRecord["outputs"]> {
    const rel = (path: string) => (isS3Destination(path) || !isAbsolute(path) ? path : relative(this.outputRoot, path) || ".");
    return { ...outputs, destination: rel(outputs.destination), processors: outputs.processors.map((p) => ({ ...p, destination: rel(p.destination) })), sample: outputs.sample.map(rel) };
  }

  private async markCanceled(workdir: string, record: ExecutionRecord, cancel: { at: string; started: Set<string> }): Promise<ExecutionRecord> {
    const processors = Object.fromEntries(
      Object.entries(record.processors).map(([id, p]) => {
        const stopped = p.status === "STARTED" || (p.status === "FAILED" && (cancel.started.has(id) || (p.finishedAt !== undefined && p.finishedAt >= cancel.at)));
        return [id, stopped ? { ...p, status: "CANCELED" as const, cause: "stopped by a cancel" } : p];
      }),
    );
    const canceled: ExecutionRecord = { ...record, status: "CANCELED", error: { error: "ExecutionCanceled", cause: "cancelled through the API" }, processors };
    await this.writeRecord(workdir, canceled);
    return canceled;
  }

  /** Rewrites a record no runner writes any more (finished or orphaned): temp file + rename, as the store does. */
  private async writeRecord(workdir: string, record: ExecutionRecord) {
    const file = join(localRecordStore(workdir).executionDir(record.executionId), "record.json");
    const temp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temp, JSON.stringify(ExecutionRecordSchema.parse(record), null, 2) + "\n");
    await rename(temp, file);
  }

  private workdir(nodeId: string) {
    return join(this.options.root, nodeId);
  }

  private async emptyInputDir(workdir: string) {
    await mkdir(join(workdir, "inputs"), { recursive: true });
    return mkdtemp(join(workdir, "inputs", "in-"));
  }

  private resolveInput(inputDir: string) {
    return insideRoot(this.inputRoot, inputDir, { code: "input_dir_outside_root", path: ["inputDir"], message: `inputDir must be inside the service's input root (got ${inputDir})` });
  }

  private resolveOutputs(outputs: string) {
    return insideRoot(this.outputRoot, outputs.startsWith("file://") ? fileURLToPath(outputs) : outputs, {
      code: "outputs_outside_root",
      path: ["invocation", "outputs"],
      message: `a directory outputs must be inside the service's output root (got ${outputs}); give a path relative to it`,
    });
  }

  private async waitForRecord(workdir: string, executionId: string, finished: Promise<unknown>) {
    const store = localRecordStore(workdir);
    let done = false;
    finished.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      if (await store.get(executionId).catch(() => undefined)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function readFrom(file: string, offset: number): Promise<Buffer> {
  const handle = await open(file, "r").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (!handle) return Buffer.alloc(0);
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer;
  } finally {
    await handle.close();
  }
}


/** `path` resolved against `root`, which it may not leave (API clients name paths on this machine); otherwise `refusal`. */
function insideRoot(root: string, path: string, refusal: ValidationIssue): string {
  const full = resolve(root, path);
  const rel = relative(root, full);
  if (rel.startsWith("..") || isAbsolute(rel)) throw new ValidationError([refusal]);
  return full;
}
