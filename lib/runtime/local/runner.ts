import "./polyfill";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus, hostname } from "node:os";
import { join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import Bottleneck from "bottleneck";
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, RunOptions, StateMachine } from "aws-local-stepfunctions";
import { cleanupAbortedExecution } from "../../integrations/transfer/local";
import { CompileError, UnavailableError, ValidationError } from "../../errors";
import { ExecutionRecord, ExecutionSnapshot, ExecutionStatus } from "../../model/execution-record";
import { ResolvedPlan } from "../../plan/resolve";
import { executionSnapshot } from "../../plan/snapshot";
import { AslMachine, capTimeouts, RESOURCES, taskStates } from "./asl";
import { LocalJoins, joinHandler } from "../../integrations/join/local";
import { RunContext } from "./context";
import { isDockerReachable } from "./docker";
import { LocalRunEvent, LocalRunEventBody } from "./events";
import { childMachineHandler, ChildExecutionFailed, ChildRun } from "../../integrations/child/local";
import { localFinalize } from "../../integrations/finalize/local";
import { dockerCliValues, ecsProcessorHandler, lambdaProcessorHandler, localNodeValues, missingRuntimeMessage, stopOutstandingProcessors } from "../../integrations/processor/local";
import { localTokensFunction, resolveTokenHandler, RefreshSessionToken } from "../../integrations/tokens/local";
import { TaskError } from "./task-error";
import { localTransfer, type S3Sender, type UploadResult } from "../../integrations/transfer/local";
import { isS3Destination, resolveOutputDestination } from "../../model/invocation";
import { LocalLayout } from "./layout";
import { FileRecordStore } from "../file-record-store";
import { assertExecutionIds } from "../../model/ids";
import { newExecutionId } from "../execution-id";
import { Clock, systemClock } from "../../clock";
import { LocalUsageMeter } from "./usage-meter";
import { compileForLocal, CompiledBundle, LocalCompiler } from "./compile-local";
import { readMarkers, StateMarker } from "../../compile/markers";
import { AslStateMachine } from "../../compile/asl/types";
import type { LlmAccess } from "../../integrations/llm/contract";

export type { LocalRunEvent } from "./events";
export type { CompiledBundle, LocalCompiler } from "./compile-local";

/** Options of a local execution. */
export interface LocalRunOptions {
  plan: ResolvedPlan;
  /** Directory whose contents become the execution's input dir (what DownloadInputs copies). */
  inputDir: string;
  /** Holds `efs/`, `executions/<id>/record.json` and logs, `archive/`. */
  workdir: string;
  /** @default a new `wi-<time>-<random>` id; it is also the workflow instance id */
  executionId?: string;
  onEvent?: (event: LocalRunEvent) => void;
  /** Processors running at once, across the whole machine. @default CPU count × 4 */
  concurrency?: number;
  /** Working directory of `localCommand` processes. @default process.cwd() */
  commandCwd?: string;
  /**
   * Where the session/refresh tokens (`PENNSIEVE_SESSION_TOKEN`, `PENNSIEVE_REFRESH_TOKEN`), the
   * node's static values (`ENVIRONMENT`, `REGION` or `AWS_REGION`, `PENNSIEVE_API_HOST`,
   * `PENNSIEVE_API_HOST2`) and `PATH` come from; processors get nothing else of it. @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /** @default compiles the plan with lib/compile for this workdir's EFS stand-in */
  compile?: LocalCompiler;
  /** @default asks the Docker CLI (`docker info`) */
  dockerReachable?: () => Promise<boolean>;
  /**
   * Aborting stops the machine and every processor's process group. With {@link cancelReason} as the
   * reason it is a cancel: RUNNING → CANCELING → FINALIZING (cleanup, finalize) → CANCELED, stopped
   * processors CANCELED. Any other reason (Ctrl-C) ends the record ABORTED without Finalize, as on AWS.
   */
  signal?: AbortSignal;
  /** How long a stopped processor's process group gets after SIGTERM before SIGKILL. @default 5000 */
  stopGraceMs?: number;
  /** LLM access for the run's processors (a local governor, `startLocalGovernor`): each gets ANTHROPIC_BASE_URL and its own key. @default none */
  llm?: LlmAccess;
  /** Refreshes the session token before a processor starts when it expires within 15 minutes, as a node with a Cognito app client does. @default no refresh */
  refreshTokens?: RefreshSessionToken;
  /** Where the record's times, event timestamps, the generated id and token refresh's expiry checks come from. @default the system clock */
  now?: Clock;
  /**
   * Every event of the state machine runs (main and children): states entered and exited with
   * their input and output, retries, catches. The local counterpart of an execution's history;
   * never written anywhere by the runner.
   */
  onMachineEvent?: (event: MachineEvent) => void;
  /**
   * Uploads the invocation's `outputs` when it is an `s3://` destination (an S3Client from the
   * environment, as the CLI builds one). @default none: an s3:// destination is refused before the run starts
   */
  s3?: S3Sender;
  /** Region whose list prices the cost report applies (lib/cost/prices). @default "us-east-1" */
  pricingRegion?: string;
  /** Where the local governor of `llm` keeps its usage, whose execution totals the cost report reads. @default `<workdir>/llm` */
  llmUsageDir?: string;
}

/** One event of aws-local-stepfunctions' event log (the library does not export its type). */
export type MachineEvent = ReturnType<StateMachine["run"]>["eventLogs"] extends AsyncGenerator<infer E> ? E : never;

export interface LocalExecution {
  executionId: string;
  /** Resolves with the final record, also when the workflow failed; rejects only when the run could not start. */
  done: Promise<ExecutionRecord>;
}

/**
 * Starts a workflow in-process: the compiled machine runs in aws-local-stepfunctions (real ASL
 * semantics) with local handlers for every Task, processors as child processes, and the record on disk.
 */
export function startLocalExecution(options: LocalRunOptions): LocalExecution {
  const executionId = options.executionId ?? newExecutionId((options.now ?? systemClock)());
  assertExecutionIds({ workflowInstanceId: executionId, computeNodeId: options.plan.computeNodeId ?? "local" }, { workflowInstanceId: ["executionId"], computeNodeId: ["invocation", "workflowInstanceConfiguration", "computeNodeId"] });
  return { executionId, done: runExecution(executionId, options) };
}

/** {@link startLocalExecution} and wait for the final record. */
export function runLocalWorkflow(options: LocalRunOptions): Promise<ExecutionRecord> {
  return startLocalExecution(options).done;
}

export { localRecordStore } from "./records";

/** The abort reason that makes a run's abort a cancel (`controller.abort(cancelReason())`). */
export function cancelReason(): Error {
  const reason = new Error("the execution was canceled");
  reason.name = "ExecutionCanceled";
  return reason;
}

const isCancel = (signal: AbortSignal | undefined) => !!signal?.aborted && (signal.reason as { name?: unknown } | undefined)?.name === "ExecutionCanceled";

async function runExecution(executionId: string, options: LocalRunOptions): Promise<ExecutionRecord> {
  const { plan } = options;
  const env = options.env ?? process.env;
  const layout = new LocalLayout(options.workdir, plan.computeNodeId ?? "local");
  const dockerReachable = memo(options.dockerReachable ?? (() => isDockerReachable()));

  const { inputDir, bundle, outputs } = await preflight(options, layout, dockerReachable, executionId);
  const now = options.now ?? systemClock;
  const store = new FileRecordStore(layout.executionsDir, { minWriteIntervalMs: 50, now });
  const createdAt = now().toISOString();
  await store.create({
    executionId,
    workflowInstanceId: executionId,
    backend: "local",
    computeNodeId: layout.computeNodeId,
    createdAt,
    snapshot: snapshotOf(plan, bundle),
    status: "PENDING",
    runner: { pid: process.pid, host: hostname() },
    processors: Object.fromEntries(plan.processors.map((p) => [p.id, { status: "NOT_STARTED" as const }])),
  });

  const secretFile = join(layout.secretsDir, `${executionId}.json`);
  const envFile = join(layout.secretsDir, `${executionId}.env`);
  let sequence = 0;
  const usage = new LocalUsageMeter(now);
  const emit = (body: LocalRunEventBody) => {
    const event = { sequence: ++sequence, timestamp: now().toISOString(), executionId, ...body } as LocalRunEvent;
    usage.observe(event);
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch {
      // A listener's failure must not fail the workflow.
    }
  };
  const ctx: RunContext = {
    plan,
    layout,
    executionId,
    workflowInstanceId: executionId,
    byHash: new Map(plan.processors.map((p) => [p.hash, p])),
    store,
    emit,
    limiter: new Bottleneck({ maxConcurrent: Math.max(1, options.concurrency ?? cpus().length * 4) }),
    commandCwd: resolve(options.commandCwd ?? process.cwd()),
    // Processors never inherit the runner's environment (API tokens, passphrases, AWS credentials).
    processorHost: { node: localNodeValues(env, plan.mode), path: env.PATH, dockerCli: dockerCliValues(env) },
    dockerReachable,
    secretFile,
    envFile,
    ...(options.refreshTokens ? { refreshTokens: options.refreshTokens } : {}),
    onMachineEvent: options.onMachineEvent,
    localInputRoots: [inputDir],
    // A directory destination is the one place the upload may write; an s3:// one goes through the S3 client.
    localOutputRoots: outputs && !isS3Destination(outputs) ? [outputs] : [],
    ...(options.s3 ? { outputS3: options.s3 } : {}),
    running: new Map(),
    stopping: false,
    finishedCount: 0,
    artifacts: {},
    aborts: new Set(),
    joins: new LocalJoins(),
    llm: options.llm,
    now,
    attempts: new Map(),
    usage,
    pricingRegion: options.pricingRegion ?? "us-east-1",
    ...(options.llm ? { llmUsageDir: resolve(options.llmUsageDir ?? join(options.workdir, "llm")) } : {}),
    startedAt: now(),
    ...(options.stopGraceMs !== undefined ? { stopGraceMs: options.stopGraceMs } : {}),
  };

  const tokens = [env.PENNSIEVE_SESSION_TOKEN, env.PENNSIEVE_REFRESH_TOKEN].filter((t): t is string => !!t && t.length >= 4);
  const redact = (text: string) => tokens.reduce((out, t) => out.split(t).join("***"), text);
  const onAbort = () => {
    if (isCancel(options.signal)) {
      ctx.canceling = true;
      store.updateExecution(executionId, { status: "CANCELING" }).catch(() => undefined);
    }
    ctx.stopping = true;
    for (const abort of ctx.aborts) abort();
  };
  const started = now().getTime();
  let status: ExecutionStatus = "SUCCEEDED";
  let error: ExecutionRecord["error"];
  try {
    await mkdir(layout.secretsDir, { recursive: true, mode: 0o700 });
    await chmod(layout.secretsDir, 0o700);
    await writeFile(secretFile, JSON.stringify({ sessionToken: env.PENNSIEVE_SESSION_TOKEN ?? "", refreshToken: env.PENNSIEVE_REFRESH_TOKEN ?? "" }), { mode: 0o600, flag: "wx" });
    await mkdir(layout.logsDir(executionId), { recursive: true });
    // The stand-in of the EFS mount point: the transfer guard requires it to exist, as on AWS.
    await mkdir(layout.efsRoot, { recursive: true });
    await store.updateExecution(executionId, { status: "RUNNING", startedAt: new Date(started).toISOString() });
    emit({ type: "execution-started", workflowName: plan.workflow.name, processorCount: plan.processors.length, workdir: layout.workdir, recordFile: join(layout.executionDir(executionId), "record.json") });

    const input = {
      workflowInstanceId: executionId,
      computeNodeId: layout.computeNodeId,
      tokenSecretId: secretFile,
      ...(plan.invocation.datasetId ? { datasetId: plan.invocation.datasetId } : {}),
      packageIds: plan.invocation.packageIds,
      inputs: [inputDir],
      ...(outputs ? { outputs } : {}),
    };
    options.signal?.throwIfAborted();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    await runMachine(ctx, bundle, bundle.definition, input, `arn:aws:states:local:000000000000:execution:${bundle.name}:${executionId}`);
  } catch (err) {
    ({ status, error } = describeFailure(err, ctx));
    error = { error: redact(error!.error), ...(error!.cause ? { cause: redact(error!.cause) } : {}) };
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await stopOutstandingProcessors(ctx).catch(() => undefined);
    await rm(secretFile, { force: true });
    await rm(envFile, { force: true });
    if (status === "ABORTED" && ctx.canceling) {
      status = "CANCELED";
      error = { error: "ExecutionCanceled", cause: "the execution was canceled" };
      await store.updateExecution(executionId, { status: "FINALIZING" });
      // The machine stopped before its Cleanup and Finalize states, as StopExecution does on AWS; a cancel still runs both.
      await cleanupAbortedExecution(ctx).catch(() => undefined);
      await localFinalize(ctx, { action: "finalize", computeNodeId: layout.computeNodeId, workflowInstanceId: executionId, status: "FAILED" }).catch(() => undefined);
      await markCanceled(ctx);
    } else if (status === "ABORTED") await cleanupAbortedExecution(ctx).catch(() => undefined);
  }
  const record = await store.updateExecution(executionId, {
    status,
    finishedAt: now().toISOString(),
    ...(error ? { error } : {}),
    artifacts: { record: join(layout.executionDir(executionId), "record.json"), logs: layout.logsDir(executionId), outputs: layout.instanceWorkdir(executionId), ...ctx.artifacts },
  });
  emit({ type: "execution-finished", status, durationMs: now().getTime() - started, ...(error ? { error } : {}) });
  return record;
}

/** After a cancel no processor stays STARTED: the record's STARTED ones were stopped. */
async function markCanceled(ctx: RunContext): Promise<void> {
  const record = await ctx.store.get(ctx.executionId);
  for (const [id, state] of Object.entries(record?.processors ?? {}))
    if (state.status === "STARTED") await ctx.store.updateProcessor(ctx.executionId, id, { status: "CANCELED", finishedAt: ctx.now().toISOString(), cause: "canceled before it finished" });
}

/** Everything that can be refused is checked here, before anything is written. */
async function preflight(options: LocalRunOptions, layout: LocalLayout, dockerReachable: () => Promise<boolean>, executionId: string): Promise<{ inputDir: string; bundle: CompiledBundle; outputs?: string }> {
  const { plan } = options;
  const inputDir = resolve(options.inputDir);
  const inputStat = await stat(inputDir).catch(() => undefined);
  if (!inputStat?.isDirectory()) throw new ValidationError([{ code: "input_not_found", path: ["inputDir"], message: `input directory ${inputDir} does not exist or is not a directory` }]);
  const outputs = await localOutputDestination(plan.invocation.outputs, { executionId, workdir: layout.workdir, s3: !!options.s3 });
  const needDocker = plan.processors.filter((p) => !p.localCommand);
  if (needDocker.length && !(await dockerReachable()))
    throw new UnavailableError(
      needDocker.length === 1
        ? missingRuntimeMessage(needDocker[0])
        : `${needDocker.length} processors (${needDocker.map((p) => `"${p.id}"`).join(", ")}) have no localCommand and no Docker engine is reachable to run their images: add "localCommand" to their registrations or start Docker`,
    );
  const bundle = (options.compile ?? compileForLocal)(plan, { efsMountPath: layout.efsRoot, computeNodeId: layout.computeNodeId, ...(options.refreshTokens ? { refreshTokens: true } : {}) });
  for (const [name, machine] of [["main", bundle.definition] as const, ...bundle.children]) {
    try {
      new StateMachine(machine as never, { validationOptions: { checkArn: true, checkPaths: true } });
    } catch (err) {
      throw new CompileError("invalid_definition", `the compiled ${name === "main" ? "main machine" : `child machine "${name}"`} is not valid ASL: ${(err as Error).message}`, [], { cause: err });
    }
  }
  return { inputDir, bundle, ...(outputs ? { outputs } : {}) };
}

/**
 * The invocation's `outputs` for this run, checked before anything is written: an s3:// URI needs an
 * S3 client; a directory (relative to the current directory, or file://) is created and may not be
 * inside the runner's workdir, where the upload would copy processors' outputs into themselves.
 */
async function localOutputDestination(raw: string | undefined, options: { executionId: string; workdir: string; s3: boolean }): Promise<string | undefined> {
  if (raw === undefined) return undefined;
  const field = ["invocation", "outputs"];
  const destination = resolveOutputDestination(raw, { workflowInstanceId: options.executionId });
  if (isS3Destination(destination)) {
    if (!options.s3)
      throw new ValidationError([{ code: "outputs_need_s3", path: field, message: `outputs ${destination} is an S3 destination, but this local run has no S3 client: pass one (LocalRunOptions.s3; the CLI builds it from the AWS environment) or give a directory` }]);
    return destination;
  }
  const dir = resolve(destination.startsWith("file://") ? fileURLToPath(destination) : destination);
  const workdir = resolve(options.workdir);
  if (dir === workdir || dir.startsWith(workdir + sep) || workdir.startsWith(dir + sep))
    throw new ValidationError([{ code: "outputs_in_workdir", path: field, message: `outputs directory ${dir} overlaps the runner's workdir ${workdir} (where the processors' outputs are): choose a directory outside it` }]);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new ValidationError([{ code: "outputs_not_writable", path: field, message: `cannot create the outputs directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  if (!(await stat(dir)).isDirectory()) throw new ValidationError([{ code: "outputs_not_directory", path: field, message: `outputs ${dir} exists and is not a directory` }]);
  return dir;
}

function snapshotOf(plan: ResolvedPlan, bundle: CompiledBundle): ExecutionSnapshot {
  return executionSnapshot(plan, createHash("sha256").update(JSON.stringify([bundle.definition, [...bundle.children]])).digest("hex"));
}

/** Runs one machine (the main one or a child) with a local handler for each of its Task states. */
async function runMachine(ctx: RunContext, bundle: CompiledBundle, definition: AslMachine, input: unknown, executionArn: string): Promise<unknown> {
  const runChild = async (childName: string, childInput: unknown): Promise<ChildRun> => {
    const child = bundle.children.get(childName);
    if (!child) throw new TaskError("States.Runtime", `local runner: no child machine "${childName}" in the compiled bundle (known: ${[...bundle.children.keys()].join(", ") || "none"})`);
    const childArn = `${executionArn}--${childName}-${randomBytes(3).toString("hex")}`;
    try {
      return { executionArn: childArn, output: await runMachine(ctx, bundle, child, childInput, childArn) };
    } catch (err) {
      const { error } = describeFailure(err, ctx);
      throw new ChildExecutionFailed(childArn, error!.error, error!.cause ?? "");
    }
  };
  type LocalHandler = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>[string];
  const handlers: Record<string, LocalHandler> = {};
  const markers = readMarkers(definition as unknown as AslStateMachine);
  for (const [name, state] of taskStates(definition)) handlers[name] = taskHandler(ctx, bundle, name, state.Resource ?? "", markers.get(name), runChild) as LocalHandler;
  // A Task's timer starts when its handler is called, but a processor may then wait for a process
  // slot; the runner times processors itself from their start (Lambda timeout), so their states get none.
  const processorStates = new Set([...markers].filter(([, m]) => m.kind === "processor").map(([name]) => name));
  // Validated once before the run started.
  const machine = new StateMachine(capTimeouts(definition, processorStates) as never, { validationOptions: { noValidate: true } });
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers: handlers },
    // Exact mode's joins hand $$.Task.Token to the join function; locally they wait in memory instead.
    context: { Execution: { Id: executionArn, Name: executionArn.split(":").pop() }, Task: { Token: "local" } },
  });
  ctx.aborts.add(execution.abort);
  const listener = ctx.onMachineEvent;
  const resolveTokenStates = new Set([...markers].filter(([, m]) => m.kind === "resolve-token").map(([name]) => name));
  // One reader of the event log (an async generator hands each event to one reader only): the cost meter and the caller's listener.
  const logged = (async () => {
    for await (const event of execution.eventLogs) {
      ctx.usage.observeMachine(event as never, resolveTokenStates);
      if (!listener) continue;
      try {
        listener(event);
      } catch {
        // A listener's failure must not fail the workflow.
      }
    }
  })().catch(() => undefined);
  try {
    return await execution.result;
  } finally {
    ctx.aborts.delete(execution.abort);
    await logged;
  }
}

/** The local stand-in for one Task, chosen by the state's marker (docs/asl-contract.md), never by its name. */
function taskHandler(ctx: RunContext, bundle: CompiledBundle, stateName: string, resource: string, marker: StateMarker | undefined, runChild: (child: string, input: unknown) => Promise<ChildRun>) {
  const refuse = (why: string) => () => Promise.reject(new TaskError("States.Runtime", `local runner: state "${stateName}" ${why}`));
  const payloadOf = (input: unknown): Record<string, unknown> => {
    const payload = (input as { Payload?: unknown } | null)?.Payload;
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new TaskError("States.Runtime", `local runner: state "${stateName}" invokes a Lambda without an object Payload`);
    return payload as Record<string, unknown>;
  };
  switch (marker?.kind) {
    case "resolve-token":
      // The node's tokens function; a hand-written machine may read the secret itself.
      if (resource === RESOURCES.lambdaInvoke) return async (input: unknown) => ctx.usage.invoke("tokens", true, () => localTokensFunction(ctx, payloadOf(input)));
      return resolveTokenHandler(ctx);
    case "processor":
      if (resource === RESOURCES.ecsRunTaskSync) return ecsProcessorHandler(ctx, stateName, marker.processorIds);
      if (resource === RESOURCES.lambdaInvoke) return async (input: unknown) => lambdaProcessorHandler(ctx, stateName, payloadOf(input), marker.processorIds);
      return refuse(`runs a processor through "${resource}", which has no local handler`);
    case "child":
      if (!marker.child) return refuse("starts a child machine without naming it");
      return childMachineHandler(marker.child, (name) => `arn:aws:states:local:000000000000:stateMachine:${bundle.name}-${name}`, runChild, ctx.now);
    case "download":
    case "merge":
    case "cleanup":
      return async (input: unknown) => ctx.usage.invoke("data-transfer", true, () => localTransfer(ctx, payloadOf(input)));
    case "upload":
      return async (input: unknown) => {
        const result = (await ctx.usage.invoke("data-transfer", true, () => localTransfer(ctx, payloadOf(input)))) as { Payload: UploadResult & { action?: string } };
        const { action: _action, ...outputs } = result.Payload;
        // In the record as soon as it is known: a Finalize that fails afterwards does not hide what was uploaded.
        await ctx.store.updateExecution(ctx.executionId, { outputs });
        return result;
      };
    case "finalize":
      // Finalize measures its own invocation: the report it writes includes it, as the AWS one does.
      return async (input: unknown) => localFinalize(ctx, payloadOf(input));
    case "join-wait":
    case "join-release":
    case "join-abort": {
      const join = joinHandler(ctx.joins, stateName, marker.kind);
      const kind = marker.kind;
      return async (input: unknown) => ctx.usage.invoke("join", kind !== "join-wait", () => join(payloadOf(input)));
    }
    default:
      return refuse(`(resource "${resource}") carries no marker the local runner knows`);
  }
}

function describeFailure(err: unknown, ctx: RunContext): { status: ExecutionStatus; error?: ExecutionRecord["error"] } {
  if (err instanceof ExecutionAbortedError || (err instanceof Error && err.name === "AbortError")) return { status: "ABORTED", error: { error: "ExecutionAborted", cause: "the run was stopped by its caller" } };
  if (err instanceof ExecutionTimeoutError) return { status: "TIMED_OUT", error: { error: "States.Timeout", cause: "the execution exceeded the machine's TimeoutSeconds" } };
  if (err instanceof ExecutionError) {
    const cause = err.cause as { name?: string; message?: string } | undefined;
    const machineError = { error: cause?.name ?? "ExecutionError", cause: cause?.message };
    // The compiled machine sanitizes processor errors; the runner knows which processor failed and why.
    if (ctx.firstFailure) return { status: "FAILED", error: { error: machineError.error, cause: ctx.firstFailure.cause } };
    return { status: "FAILED", error: machineError };
  }
  if (err instanceof Error) return { status: "FAILED", error: { error: err.name, cause: err.message } };
  return { status: "FAILED", error: { error: "Error", cause: String(err) } };
}

function memo<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= fn());
}

