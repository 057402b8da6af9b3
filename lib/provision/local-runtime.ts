import { mkdir, mkdtemp } from "node:fs/promises";
import { isAbsolute, join, relative, resolve } from "node:path";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import { ExecutionRecord } from "../model/execution-record";
import { localRecordStore, startLocalExecution, LocalRunOptions } from "../runtime/local/runner";
import { assertSafeExecutionId } from "../runtime/file-record-store";
import { NodeRecord } from "./records";
import { StartExecutionRequest, WorkflowRuntime } from "./workflow-runtime";

export interface LocalWorkflowRuntimeOptions {
  /** Each node's runner workdir is `<root>/<nodeId>`. */
  root: string;
  /** `inputDir` of a request is resolved inside this directory and may not leave it. @default `<root>/inputs` */
  inputRoot?: string;
  /** Passed to the runner (tests swap Docker detection, concurrency). */
  runnerOptions?: Partial<Pick<LocalRunOptions, "concurrency" | "dockerReachable" | "env" | "commandCwd" | "compile">>;
  start?: typeof startLocalExecution;
}

/** Runs executions in-process with the embedded local runner; records live under each node's workdir. */
export class LocalWorkflowRuntime implements WorkflowRuntime {
  readonly backend = "local" as const;
  private readonly running = new Map<string, Map<string, { controller: AbortController; done: Promise<unknown> }>>();
  private readonly inputRoot: string;

  constructor(private readonly options: LocalWorkflowRuntimeOptions) {
    this.inputRoot = resolve(options.inputRoot ?? join(options.root, "inputs"));
  }

  async startExecution({ node, plan, inputDir }: StartExecutionRequest): Promise<{ executionId: string }> {
    const workdir = this.workdir(node.id);
    await mkdir(workdir, { recursive: true });
    const input = inputDir === undefined ? await this.emptyInputDir(workdir) : this.resolveInput(inputDir);
    const start = this.options.start ?? startLocalExecution;
    const controller = new AbortController();
    const execution = start({ ...this.options.runnerOptions, plan, inputDir: input, workdir, signal: controller.signal });
    const running = this.running.get(node.id) ?? new Map();
    this.running.set(node.id, running);
    const finished = execution.done.finally(() => running.delete(execution.executionId));
    running.set(execution.executionId, { controller, done: finished.catch(() => undefined) });
    // The record exists once the runner wrote its snapshot; a refusal (bad input, no Docker) comes first.
    await Promise.race([finished.then(() => undefined), this.waitForRecord(workdir, execution.executionId, finished)]);
    finished.catch(() => undefined);
    return { executionId: execution.executionId };
  }

  async getExecution(node: NodeRecord | undefined, executionId: string): Promise<ExecutionRecord> {
    assertSafeExecutionId(executionId);
    const record = node ? await localRecordStore(this.workdir(node.id)).get(executionId) : undefined;
    if (!record) throw new NotFoundError(`no execution "${executionId}"`);
    return record;
  }

  async runningExecutionOf(node: NodeRecord): Promise<string | undefined> {
    return [...(this.running.get(node.id)?.keys() ?? [])][0];
  }

  async cleanupNode(node: NodeRecord, options: { force: boolean }): Promise<void> {
    const running = await this.runningExecutionOf(node);
    if (running && !options.force) throw new ConflictError(`execution ${running} is still running on compute node "${node.id}"`, running);
    // Forced: stop them (records end ABORTED). Local executions register nothing that outlives them.
    const executions = [...(this.running.get(node.id)?.values() ?? [])];
    for (const execution of executions) execution.controller.abort();
    await Promise.all(executions.map((e) => e.done));
  }

  private workdir(nodeId: string) {
    return join(this.options.root, nodeId);
  }

  private async emptyInputDir(workdir: string) {
    await mkdir(join(workdir, "inputs"), { recursive: true });
    return mkdtemp(join(workdir, "inputs", "in-"));
  }

  private resolveInput(inputDir: string) {
    const full = resolve(this.inputRoot, inputDir);
    const rel = relative(this.inputRoot, full);
    if (rel.startsWith("..") || isAbsolute(rel))
      throw new ValidationError([{ code: "input_dir_outside_root", path: ["inputDir"], message: `inputDir must be inside ${this.inputRoot} (got ${inputDir})` }]);
    return full;
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
