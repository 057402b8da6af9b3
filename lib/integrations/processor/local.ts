import { mkdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ResolvedProcessor } from "../../plan/resolve";
import { ProcessorRunState } from "../../model/execution-record";
import { RunContext } from "../../runtime/local/context";
import { killProcessGroup, runLogged } from "./processes";
import { INVOCATION_ENV, NODE_ENV } from "./contract";
import { processorEnvironment } from "./environment";
import { TaskError } from "../../runtime/local/task-error";
import { removeContainer } from "../../runtime/local/docker";
import { readLocalEnvFiles } from "../tokens/local";

/** The per-invocation values of processor-guide section 3, however the machine delivered them. */
interface Invocation {
  inputDir: string;
  outputDir: string;
  workflowInstanceId: string;
  sessionToken: string;
  refreshToken: string;
  /** ECS only: every Environment entry of the container override, as the container would see it. */
  extraEnv: Record<string, string>;
}

/** `ecs:runTask.sync`: runs the processor and answers like the ECS integration (a stopped task; non-zero exit fails the state). */
export function ecsProcessorHandler(ctx: RunContext, stateName: string, expectedIds: string[]) {
  return async (input: unknown) => {
    const overrides = (input as { Overrides?: { ContainerOverrides?: { Name?: string; Environment?: { Name: string; Value: string }[]; EnvironmentFiles?: { Type?: string; Value?: string }[] }[] } })?.Overrides;
    const container = overrides?.ContainerOverrides?.[0];
    // As ECS does: environment files first, then the override's Environment, which takes precedence.
    const env = { ...(await readLocalEnvFiles(ctx, container?.EnvironmentFiles ?? [])), ...Object.fromEntries((container?.Environment ?? []).map((e) => [e.Name, e.Value])) };
    const invocation = readInvocation(stateName, { inputDir: env.INPUT_DIR, outputDir: env.OUTPUT_DIR, workflowInstanceId: env.WORKFLOW_INSTANCE_ID, sessionToken: env.SESSION_TOKEN, refreshToken: env.REFRESH_TOKEN }, env);
    const { processor, outcome, startedAt, stoppedAt } = await runProcessor(ctx, stateName, invocation, expectedIds);
    const task = {
      TaskArn: `arn:aws:ecs:local:000000000000:task/${ctx.layout.computeNodeId}/${ctx.workflowInstanceId}-${processor.hash}`,
      Group: `family:${processor.id}`,
      LastStatus: "STOPPED",
      DesiredStatus: "STOPPED",
      StopCode: "EssentialContainerExited",
      StoppedReason: "Essential container in task exited",
      StartedAt: startedAt,
      StoppedAt: stoppedAt,
      Containers: [{ Name: "processor", LastStatus: "STOPPED", ExitCode: outcome.exitCode ?? undefined, Reason: outcome.spawnError }],
      // The real integration echoes the container overrides (an environment file's location, no
      // token); the compiled ResultSelector/Catch drop them anyway, and running them locally keeps that honest.
      Overrides: overrides,
    };
    if (outcome.exitCode !== 0) throw new TaskError("States.TaskFailed", task);
    return task;
  };
}

/** `lambda:invoke` of a processor function: runs the processor, answers like Lambda (a function error fails the state). */
export function lambdaProcessorHandler(ctx: RunContext, stateName: string, payload: Record<string, unknown>, expectedIds: string[]) {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const invocation = readInvocation(stateName, {
    inputDir: str(payload.inputDir),
    outputDir: str(payload.outputDir),
    workflowInstanceId: str(payload.workflowInstanceId),
    sessionToken: str(payload.sessionToken),
    refreshToken: str(payload.refreshToken),
  });
  return runProcessor(ctx, stateName, invocation, expectedIds).then(({ processor, outcome }) => {
    if (outcome.exitCode !== 0) {
      const errorMessage = `processor "${processor.id}" ${describeOutcome(outcome)}`;
      throw new TaskError("ProcessorFailed", { errorType: "ProcessorFailed", errorMessage });
    }
    return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: { status: "success" } };
  });
}

function readInvocation(stateName: string, v: Partial<Record<keyof Omit<Invocation, "extraEnv">, string>>, extraEnv: Record<string, string> = {}): Invocation {
  if (!v.inputDir || !v.outputDir)
    throw new TaskError("States.Runtime", `local runner: state "${stateName}" runs a processor but its parameters carry no INPUT_DIR/OUTPUT_DIR (inputDir/outputDir)`);
  return { inputDir: v.inputDir, outputDir: v.outputDir, workflowInstanceId: v.workflowInstanceId ?? "", sessionToken: v.sessionToken ?? "", refreshToken: v.refreshToken ?? "", extraEnv };
}

async function runProcessor(ctx: RunContext, stateName: string, invocation: Invocation, expectedIds: string[]) {
  const outputDir = resolve(invocation.outputDir);
  // The contract identifies a processor by the last segment of its OUTPUT_DIR (= ResolvedProcessor.hash).
  const processor = ctx.byHash.get(basename(outputDir));
  if (!processor || dirname(outputDir) !== ctx.layout.instanceWorkdir(ctx.workflowInstanceId))
    throw new TaskError("States.Runtime", `local runner: state "${stateName}" has OUTPUT_DIR ${outputDir}, which is no processor's output dir in this execution`);
  if (!expectedIds.includes(processor.id))
    throw new TaskError("States.Runtime", `local runner: state "${stateName}" is marked for ${JSON.stringify(expectedIds)} but its OUTPUT_DIR belongs to "${processor.id}"`);

  return ctx.limiter.schedule(async () => {
    if (ctx.stopping) throw new TaskError("States.TaskFailed", `processor "${processor.id}" was not started: the workflow body already ended`);
    const attempt = (ctx.attempts.get(processor.id) ?? 0) + 1;
    ctx.attempts.set(processor.id, attempt);

    const argv = await commandFor(ctx, processor);
    await mkdir(outputDir, { recursive: true });
    const logFile = join(ctx.layout.logsDir(ctx.executionId), logFileName(processor));
    const startedAt = ctx.now();
    recordState(ctx, processor.id, { status: "STARTED", startedAt: startedAt.toISOString(), attempts: attempt, logFile });
    const shown = argv.join(" ");
    ctx.emit({ type: "processor-started", processorId: processor.id, attempt, logFile, command: shown });

    // LLM access: the governor's URL and a key naming this execution and processor, revoked when the process ends.
    const llm = ctx.llm?.grant({ executionId: ctx.executionId, processorId: processor.id, ...userOf(ctx) });
    const environment = processorEnvironment({
      invocation: { ...invocation, inputDir: resolve(invocation.inputDir), outputDir },
      node: ctx.processorHost.node,
      granted: llm?.environment,
      delivered: invocation.extraEnv,
      path: ctx.processorHost.path,
    });
    // The Docker CLI also needs to find its engine; the container still gets only the `-e` variables.
    const env = processorUsesDocker(processor) ? { ...ctx.processorHost.dockerCli, ...environment } : environment;
    const outcome = await runLogged({
      argv,
      env,
      cwd: ctx.commandCwd,
      logFile,
      header: `# ${processor.id} attempt ${attempt} at ${startedAt.toISOString()}: ${shown}`,
      secrets: [invocation.sessionToken, invocation.refreshToken, ...(llm?.secrets ?? [])],
      ...(processor.computeType === "lambda" ? { timeoutMs: processor.timeout * 1000 } : {}),
      onSpawn: (child) => ctx.running.set(processor.id, child),
    }).finally(() => llm?.revoke());
    // A killed `docker run` (cancel, timeout, Ctrl-C, a sibling's failure) leaves its container running: remove it too.
    if (processorUsesDocker(processor) && outcome.signal !== null) await removeContainer(containerName(ctx, processor), { ...ctx.processorHost.dockerCli, ...(ctx.processorHost.path ? { PATH: ctx.processorHost.path } : {}) });
    const stoppedAt = ctx.now();
    const ok = outcome.exitCode === 0;
    const stoppedByRunner = !ok && ctx.stopping && outcome.signal !== null;
    const canceled = stoppedByRunner && !!ctx.canceling;
    const cause = ok ? undefined : canceled ? "canceled before it finished" : stoppedByRunner ? "stopped before it finished: the workflow failed elsewhere or was aborted" : describeOutcome(outcome);
    // The compiled Retry gives a failing processor `retry.maxAttempts` more attempts; until they are
    // used up the processor stays STARTED, since FAILED is final and a later success could not undo it.
    const willRetry = !ok && !ctx.stopping && attempt <= (processor.retry?.maxAttempts ?? 0);
    recordState(ctx, processor.id, {
      status: ok ? "SUCCEEDED" : willRetry ? "STARTED" : canceled ? "CANCELED" : "FAILED",
      ...(willRetry ? {} : { finishedAt: stoppedAt.toISOString() }),
      ...(outcome.exitCode !== null ? { exitCode: outcome.exitCode } : {}),
      // A success after a retried failure clears the earlier attempt's cause.
      cause: cause && (willRetry ? `attempt ${attempt} ${cause}; retrying` : cause),
    });
    // Only now: stopOutstandingProcessors waits on `running` and must find the record final.
    ctx.running.delete(processor.id);
    if (willRetry) {
      ctx.emit({ type: "processor-retrying", processorId: processor.id, attempt, cause: cause! });
      return { processor, outcome, startedAt: startedAt.toISOString(), stoppedAt: stoppedAt.toISOString() };
    }
    // A processor the runner stopped is a consequence of the failure, not its cause.
    if (!ok && !stoppedByRunner) ctx.firstFailure ??= { processorId: processor.id, cause: `processor "${processor.id}" ${cause}` };
    ctx.finishedCount++;
    ctx.emit({
      type: "processor-finished",
      processorId: processor.id,
      status: ok ? "SUCCEEDED" : canceled ? "CANCELED" : "FAILED",
      ...(outcome.exitCode !== null ? { exitCode: outcome.exitCode } : {}),
      durationMs: stoppedAt.getTime() - startedAt.getTime(),
      ...(cause ? { cause } : {}),
      done: ctx.finishedCount,
      total: ctx.plan.processors.length,
    });
    return { processor, outcome, startedAt: startedAt.toISOString(), stoppedAt: stoppedAt.toISOString() };
  });
}

/**
 * Updates the record without waiting for the disk: the store applies updates in call order at once
 * (so Finalize and the final write see them) and writes them in batches. Waiting here would put a
 * disk write between every processor and its dependants. A failed intermediate write is repaired by
 * the next one, since every write holds the whole record; the final write is awaited by the runner.
 */
function recordState(ctx: RunContext, processorId: string, state: ProcessorRunState) {
  ctx.store.updateProcessor(ctx.executionId, processorId, state).catch(() => undefined);
}

const processorUsesDocker = (processor: ResolvedProcessor) => !processor.localCommand;

export { localNodeValues, dockerCliValues } from "./environment";
export type { NodeStaticValues } from "./environment";

/** `localCommand` when registered, otherwise the image under Docker; without either, a clear error naming the processor. */
async function commandFor(ctx: RunContext, processor: ResolvedProcessor): Promise<string[]> {
  if (processor.localCommand) return [...processor.localCommand];
  if (!(await ctx.dockerReachable()))
    throw new TaskError("States.TaskFailed", missingRuntimeMessage(processor));
  const root = ctx.layout.efsRoot;
  // Same path inside and outside the container, so the absolute symlinks of merge dirs resolve.
  return [
    "docker", "run", "--rm",
    "--name", containerName(ctx, processor),
    "-v", `${root}:${root}`,
    "--cpus", String(processor.cpu),
    "--memory", `${processor.memory}m`,
    // Values come from docker's own environment, so tokens never appear on a command line.
    ...[...INVOCATION_ENV, ...NODE_ENV].flatMap((n) => ["-e", n]),
    processor.image,
    ...processor.commandArguments,
  ];
}

/** The container of a Docker processor: one per execution and processor, so a stop can name it. */
function containerName(ctx: Pick<RunContext, "workflowInstanceId">, processor: Pick<ResolvedProcessor, "hash">): string {
  return `cn-${ctx.workflowInstanceId}-${processor.hash}`.slice(0, 120);
}

/** The user an invocation charges LLM calls to (its top-level `userId`), if any. */
function userOf(ctx: RunContext): { userId?: string } {
  const userId = (ctx.plan.invocation as { userId?: unknown }).userId;
  return typeof userId === "string" && userId ? { userId } : {};
}

export function missingRuntimeMessage(processor: Pick<ResolvedProcessor, "id" | "image">): string {
  return `processor "${processor.id}" has no localCommand and no Docker engine is reachable to run its image "${processor.image}": add "localCommand" to its registration or start Docker`;
}

function describeOutcome(outcome: { exitCode: number | null; signal: string | null; spawnError?: string; timedOut?: boolean }): string {
  if (outcome.spawnError) return `could not be started (${outcome.spawnError})`;
  if (outcome.timedOut) return "timed out (the Lambda timeout of its registration) and was stopped";
  if (outcome.signal) return `was killed by ${outcome.signal}`;
  return `exited with code ${outcome.exitCode}`;
}

function logFileName(processor: ResolvedProcessor): string {
  return `${processor.id.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60)}-${processor.hash}.log`;
}

/**
 * Called when the body is over (Cleanup reached): a failed branch made Step Functions abandon the
 * others, whose processes would otherwise keep running. Stops them and waits for their records.
 */
export async function stopOutstandingProcessors(ctx: RunContext, graceMs = ctx.stopGraceMs ?? 5000): Promise<void> {
  ctx.stopping = true;
  if (ctx.running.size === 0) return;
  // The whole group: a processor's own children must not outlive a stop.
  for (const child of ctx.running.values()) killProcessGroup(child, "SIGTERM");
  // A timer, not a clock reading: the grace period is real time whatever clock the run was given.
  let graceOver = false;
  const grace = setTimeout(() => (graceOver = true), graceMs);
  while (ctx.running.size > 0 && !graceOver) await new Promise((r) => setTimeout(r, 20));
  clearTimeout(grace);
  for (const child of ctx.running.values()) killProcessGroup(child, "SIGKILL");
  while (ctx.running.size > 0) await new Promise((r) => setTimeout(r, 20));
}
