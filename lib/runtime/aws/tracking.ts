import { DescribeExecutionCommand, DescribeStateMachineForExecutionCommand, DescribeStateMachineCommand, HistoryEvent, SFNClient } from "@aws-sdk/client-sfn";
import { NotFoundError } from "../../errors";
import { ExecutionOutputs, ExecutionOutputsSchema, ExecutionRecord, ExecutionStatus, ProcessorRunState, advanceProcessorState, isTerminalExecutionStatus } from "../../model/execution-record";
import { ExecutionRecordStore } from "../../model/record-store";
import { readMarkers, StateMarker } from "../../compile/markers";
import { AslStateMachine } from "../../compile/asl/types";
import { AwsClients } from "./clients";
import { isNotFound, toRuntimeError } from "./errors";
import { deleteEnvFile, deleteTokenSecret } from "../../integrations/tokens/aws";
import { tokenSecretName } from "../../integrations/tokens/contract";
import { Clock, systemClock } from "../../clock";
import { executionHistory, mapRunIterations } from "./history";

export interface RefreshExecutionOptions {
  executionId: string;
  store: ExecutionRecordStore;
  clients: AwsClients;
  /** The node's env-file bucket (NodeOutputs.envFileBucket): once the execution has ended its environment file is deleted there too. @default none: finalize and the bucket's one-day expiry remove it */
  envFileBucket?: string;
  /** What "now" is for a start's grace period and for processors an ended execution leaves unfinished. @default the system clock */
  now?: Clock;
  /**
   * Finished Distributed Map iterations already read: a long-lived caller (the provisioning service)
   * passes one {@link createFinishedIterations} to every refresh, so refreshing a large exact-mode
   * run reads only the iterations still running. @default a new one per call
   */
  finishedIterations?: FinishedIterations;
}

/** The cause a cancel gives StopExecution (and the record, where the endpoint reports none). */
export const CANCEL_CAUSE = "canceled by user";

const FAILURE_EVENTS = new Set(["TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed"]);
const MAX_CAUSE = 1000;

/**
 * Brings an execution record up to date from Step Functions: the execution's status and, from its
 * history (every page, child executions included), each processor's NOT_STARTED → STARTED →
 * SUCCEEDED / FAILED with times, attempts and failure causes. Once the execution has ended, no
 * processor stays STARTED and the per-execution token secret is deleted.
 */
export async function refreshExecutionStatus(options: RefreshExecutionOptions): Promise<ExecutionRecord> {
  const { executionId, store, clients } = options;
  const now = options.now ?? systemClock;
  const record = await store.get(executionId);
  if (!record) throw new NotFoundError(`no execution "${executionId}" in the execution record store`);
  if (!record.executionArn) return adoptUnconfirmedStart(options, record);
  if (isTerminalExecutionStatus(record.status) && Object.values(record.processors).every((p) => p.status !== "STARTED")) return record;

  const described = await clients.limits.run("sfn:DescribeExecution", () => clients.sfn.send(new DescribeExecutionCommand({ executionArn: record.executionArn }))).catch((err) => {
    throw toRuntimeError(err, `DescribeExecution ${record.executionArn}`);
  });
  const reported = (described.status ?? "RUNNING") as ExecutionStatus;
  // A cancel marks the record CANCELING before StopExecution: Step Functions then reports ABORTED, and
  // until it does, RUNNING must not undo the cancel.
  const status: ExecutionStatus = record.status === "CANCELING" ? (reported === "ABORTED" ? "CANCELED" : reported === "RUNNING" ? "CANCELING" : reported) : reported;
  const terminal = isTerminalExecutionStatus(status);
  let derived: Map<string, ProcessorRunState>;
  try {
    derived = await processorStatesOf({ clients, ended: terminal, finishedIterations: options.finishedIterations ?? createFinishedIterations(), now }, record.executionArn, record.stateMachineArn, record.snapshot.resolved);
  } catch (err) {
    // An ended execution must not keep processors STARTED because its history could not be read.
    if (!terminal) throw err;
    derived = new Map();
  }

  const updates: Record<string, ProcessorRunState> = {};
  for (const id of Object.keys(record.processors)) {
    let next = advanceProcessorState(record.processors[id], derived.get(id) ?? record.processors[id]);
    // Step Functions stops whatever still runs when an execution ends (a cancel, a timeout, a sibling's failure).
    if (terminal && status !== "SUCCEEDED" && next.status === "STARTED")
      next = { ...next, status: "CANCELED", finishedAt: (described.stopDate ?? now()).toISOString(), cause: next.cause ?? `the execution ended ${status} while the processor was running` };
    if (JSON.stringify(next) !== JSON.stringify(record.processors[id])) updates[id] = next;
  }
  const patch = terminal
    ? {
        status,
        finishedAt: (described.stopDate ?? now()).toISOString(),
        ...(status === "CANCELED"
          ? { error: { error: described.error ?? "Canceled", cause: described.cause ? scrubTokens(described.cause).slice(0, MAX_CAUSE) : CANCEL_CAUSE } }
          : status !== "SUCCEEDED"
            ? { error: { error: described.error ?? status, ...(described.cause ? { cause: scrubTokens(described.cause).slice(0, MAX_CAUSE) } : {}) } }
            : uploadedOutputs(described.output)),
      }
    : record.status !== status
      ? { status }
      : {};

  let updated = record;
  const bulk = (store as { applyChanges?: (id: string, p: Record<string, ProcessorRunState>, patch: object) => Promise<ExecutionRecord> }).applyChanges;
  if (bulk && (Object.keys(updates).length || Object.keys(patch).length)) updated = await bulk.call(store, executionId, updates, patch);
  else {
    for (const [id, state] of Object.entries(updates)) updated = await store.updateProcessor(executionId, id, state);
    if (Object.keys(patch).length) updated = await store.updateExecution(executionId, patch);
  }
  if (terminal) {
    await revokeTokens(clients, record);
    // An execution that was stopped or timed out never reached Finalize: its ECS processors' tokens go here.
    if (options.envFileBucket && clients.s3)
      await deleteEnvFile(clients.s3, options.envFileBucket, record, { limit: (call) => clients.limits.run("s3:DeleteObject", call) }).catch(() => undefined);
  }
  return updated;
}

// The run has ended (or never began): its tokens go. A failure here must not fail a status read; the next read retries.
function revokeTokens(clients: AwsClients, record: ExecutionRecord): Promise<unknown> {
  return deleteTokenSecret(clients.secrets, tokenSecretName(record.computeNodeId, record.workflowInstanceId), { limit: (call) => clients.limits.run("secretsmanager:DeleteSecret", call) }).catch(() => undefined);
}

// How long a record may stay PENDING without an execution before the start is declared failed.
const START_GRACE_MS = 10 * 60 * 1000;

/**
 * A start that crashed between writing the record and saving the execution ARN: the execution is
 * found by its deterministic ARN (machine + workflow instance id) and adopted, or, once the grace
 * period has passed without one, the record ends FAILED and the token secret is deleted.
 */
async function adoptUnconfirmedStart(options: RefreshExecutionOptions, record: ExecutionRecord): Promise<ExecutionRecord> {
  const { clients, store } = options;
  const now = options.now ?? systemClock;
  if (record.status !== "PENDING" || !record.stateMachineArn) return record;
  const executionArn = `${record.stateMachineArn.replace(":stateMachine:", ":execution:")}:${record.workflowInstanceId}`;
  const found = await clients.limits.run("sfn:DescribeExecution", () => clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw toRuntimeError(err, `DescribeExecution ${executionArn}`);
  });
  if (found) {
    await store.updateExecution(record.executionId, { executionArn, status: "RUNNING", ...(found.startDate ? { startedAt: found.startDate.toISOString() } : {}) });
    return refreshExecutionStatus({ ...options, executionId: record.executionId });
  }
  if (now().getTime() - Date.parse(record.createdAt) < START_GRACE_MS) return record;
  await revokeTokens(clients, record);
  return store.updateExecution(record.executionId, { status: "FAILED", finishedAt: now().toISOString(), error: { error: "StartNotConfirmed", cause: "the execution was never started on Step Functions" } });
}

/** Reads a record and refreshes it from AWS when it may have moved on. */
export async function getExecutionRecord(options: RefreshExecutionOptions): Promise<ExecutionRecord> {
  return refreshExecutionStatus(options);
}

/** A processor's state as one history walk derives it. */
export interface Tracked {
  state: ProcessorRunState;
  /** The failure event waiting to see whether a retry follows it. */
  /** Event ids are per execution, so the failure remembers whose history it is in. */
  pendingFailure?: { executionArn: string; eventId: number; at: string; cause: string; exitCode?: number };
}

/** What one history walk shares across the execution, its children and its map-run iterations. */
interface Walk {
  clients: AwsClients;
  /** The execution (or the iteration being read) has ended: a failure nothing follows is final. */
  ended: boolean;
  finishedIterations: FinishedIterations;
  now: Clock;
}

async function processorStatesOf(walk: Walk, executionArn: string, stateMachineArn: string | undefined, resolved: { id: string; hash: string }[]): Promise<Map<string, ProcessorRunState>> {
  const byHash = new Map(resolved.map((p) => [p.hash, p.id]));
  const out = new Map<string, Tracked>();
  await walkExecution({ ...walk, byHash }, executionArn, stateMachineArn, out, 0);
  return new Map([...out].map(([id, t]) => [id, t.state]));
}

async function walkExecution(
  walk: Walk & { byHash: Map<string, string> },
  executionArn: string,
  stateMachineArn: string | undefined,
  out: Map<string, Tracked>,
  depth: number,
  inherited?: Map<string, StateMarker>,
): Promise<void> {
  const { clients, byHash } = walk;
  // A Distributed Map iteration runs states of its parent's definition (names are unique machine-wide).
  const markers = inherited ?? readMarkers(await definitionOf(clients, executionArn, stateMachineArn));
  const events = await executionHistory(limitedSfn(clients), executionArn);
  const byId = new Map(events.map((e) => [e.id!, e]));
  const followers = new Map<number, HistoryEvent[]>();
  for (const e of events) if (e.previousEventId !== undefined) followers.set(e.previousEventId, [...(followers.get(e.previousEventId) ?? []), e]);
  // Each event belongs to the state whose Entered event its previousEventId chain reaches.
  const owner = new Map<number, { state: string; processorIds: string[] }>();
  const ownerOf = (e: HistoryEvent): { state: string; processorIds: string[] } | undefined => {
    if (owner.has(e.id!)) return owner.get(e.id!);
    let found: { state: string; processorIds: string[] } | undefined;
    if (e.stateEnteredEventDetails?.name) {
      const marker = markers.get(e.stateEnteredEventDetails.name);
      found = { state: e.stateEnteredEventDetails.name, processorIds: marker?.kind === "processor" ? processorsOfEntry(marker, e.stateEnteredEventDetails.input, byHash) : [] };
    } else if (e.previousEventId && byId.has(e.previousEventId) && !e.type?.endsWith("StateExited")) found = ownerOf(byId.get(e.previousEventId)!);
    owner.set(e.id!, found!);
    return found;
  };
  const children: string[] = [];
  const mapRuns: string[] = [];
  for (const e of events) {
    const at = (e.timestamp ?? walk.now()).toISOString();
    const mapRunArn = e.mapRunStartedEventDetails?.mapRunArn;
    if (mapRunArn && !mapRuns.includes(mapRunArn)) mapRuns.push(mapRunArn);
    const own = ownerOf(e);
    if (!own) continue;
    const marker = markers.get(own.state);
    if (marker?.kind === "child" && (e.type === "TaskSubmitted" || e.type === "TaskSucceeded" || e.type === "TaskStarted")) {
      const arn = childExecutionArn(e.taskSubmittedEventDetails?.output ?? e.taskSucceededEventDetails?.output);
      if (arn && !children.includes(arn)) children.push(arn);
    }
    if (marker?.kind !== "processor") continue;
    for (const id of own.processorIds) {
      const t = out.get(id) ?? { state: { status: "NOT_STARTED" as const } };
      out.set(id, t);
      if (e.type === "TaskStateEntered") t.state = { ...t.state, status: "STARTED", startedAt: t.state.startedAt ?? at, attempts: Math.max(1, t.state.attempts ?? 0) };
      else if (e.type === "TaskScheduled" && t.pendingFailure) {
        t.pendingFailure = undefined;
        t.state = { ...t.state, status: "STARTED", attempts: (t.state.attempts ?? 1) + 1 };
      } else if (e.type === "TaskSucceeded") t.state = { ...t.state, status: "SUCCEEDED", finishedAt: at, cause: undefined };
      else if (FAILURE_EVENTS.has(e.type!)) t.pendingFailure = { executionArn, eventId: e.id!, at, ...failureOf(e) };
    }
  }
  for (const t of out.values()) {
    const pending = t.pendingFailure;
    if (!pending || pending.executionArn !== executionArn) continue;
    const next = followers.get(pending.eventId) ?? [];
    // A retry schedules the task again; anything else after the failure means the machine moved on (Catch or end).
    const movedOn = next.some((e) => e.type !== "TaskScheduled") || (walk.ended && next.length === 0);
    if (movedOn) t.state = { ...t.state, status: "FAILED", finishedAt: pending.at, cause: pending.cause, ...(pending.exitCode !== undefined ? { exitCode: pending.exitCode } : {}) };
  }
  if (depth >= 3) return;
  for (const child of children) await walkExecution(walk, child, undefined, out, depth + 1);
  // Distributed Map iterations (large twin groups, every unit in exact mode) are executions of their own.
  for (const mapRun of mapRuns)
    for (const iteration of await mapRunIterations(limitedSfn(clients), mapRun)) {
      const key = iteration.stopDate ? `${iteration.executionArn}@${iteration.stopDate.toISOString()}` : undefined;
      let states = key ? walk.finishedIterations.get(key) : undefined;
      if (!states) {
        states = new Map();
        await walkExecution({ ...walk, ended: walk.ended || key !== undefined }, iteration.executionArn, undefined, states, depth + 1, markers);
        if (key) walk.finishedIterations.remember(key, states);
      }
      for (const [id, tracked] of states) out.set(id, tracked);
    }
}

/**
 * A finished iteration's history never changes (a redrive runs it again and gives it a new stop
 * date), so its processors' states need reading once: whoever refreshes repeatedly keeps one of
 * these (bounded, oldest out first) and passes it to every refresh.
 */
export interface FinishedIterations {
  get(key: string): Map<string, Tracked> | undefined;
  remember(key: string, states: Map<string, Tracked>): void;
}

export function createFinishedIterations(maxIterations = 200_000): FinishedIterations {
  const byKey = new Map<string, Map<string, Tracked>>();
  return {
    get: (key) => byKey.get(key),
    remember(key, states) {
      if (byKey.size >= maxIterations) byKey.delete(byKey.keys().next().value!);
      byKey.set(key, states);
    },
  };
}

/** The iteration of a Map runs one processor: its entry input carries `p.id` (docs/asl-contract.md). */
function processorsOfEntry(marker: StateMarker, input: string | undefined, byHash: Map<string, string>): string[] {
  if (marker.processorIds.length <= 1) return marker.processorIds;
  try {
    const value = JSON.parse(input ?? "{}") as { p?: { id?: string; h?: string } };
    if (value.p?.id && marker.processorIds.includes(value.p.id)) return [value.p.id];
    if (value.p?.h && byHash.has(value.p.h)) return [byHash.get(value.p.h)!];
  } catch {
    // fall through: attribute to every processor of the Map
  }
  return marker.processorIds;
}

/** Error and a short cause; an ECS task description is reduced to exit code and stopped reason (it holds container overrides, i.e. tokens). */
function failureOf(e: HistoryEvent): { cause: string; exitCode?: number } {
  const d: { error?: string; cause?: string } = e.taskFailedEventDetails ?? e.taskTimedOutEventDetails ?? e.taskStartFailedEventDetails ?? e.taskSubmitFailedEventDetails ?? {};
  const error = d.error ?? e.type ?? "failed";
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(d.cause ?? "") as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  if (parsed && Array.isArray(parsed.Containers ?? parsed.containers)) {
    const containers = (parsed.Containers ?? parsed.containers) as { ExitCode?: number; exitCode?: number; Reason?: string; reason?: string }[];
    const exitCode = containers.map((c) => c.ExitCode ?? c.exitCode).find((c) => typeof c === "number");
    const reason = (parsed.StoppedReason ?? parsed.stoppedReason) as string | undefined;
    return { cause: [`${error}`, exitCode !== undefined ? `exit code ${exitCode}` : "", reason ?? ""].filter(Boolean).join(": ").slice(0, MAX_CAUSE), exitCode };
  }
  if (parsed && typeof parsed.errorMessage === "string") return { cause: scrubTokens(`${error}: ${parsed.errorMessage}`).slice(0, MAX_CAUSE) };
  // Step Functions truncates long causes, so an ECS task description may arrive as JSON that no longer parses:
  // it still carries the container overrides (tokens), so keep only its exit code and stopped reason.
  if (d.cause && /"(Container)?Overrides"\s*:/i.test(d.cause)) {
    const exit = /"ExitCode"\s*:\s*(-?\d+)/i.exec(d.cause);
    const reason = /"StoppedReason"\s*:\s*"([^"]{0,300})"/i.exec(d.cause);
    const exitCode = exit ? Number(exit[1]) : undefined;
    return { cause: [error, exitCode !== undefined ? `exit code ${exitCode}` : "", reason?.[1] ?? ""].filter(Boolean).join(": "), exitCode };
  }
  return { cause: scrubTokens(d.cause ? `${error}: ${d.cause}` : error).slice(0, MAX_CAUSE) };
}

// Whatever else a cause quotes (a request, a payload), token values never reach the record.
const Q = String.raw`\\?"`;
const TOKEN_NAME = "(?:SESSION_TOKEN|REFRESH_TOKEN)";
const TOKEN_FIELDS = [
  new RegExp(`(${Q}Name${Q}\\s*:\\s*${Q}${TOKEN_NAME}${Q}\\s*,\\s*${Q}Value${Q}\\s*:\\s*${Q})[^"\\\\]*`, "gi"),
  new RegExp(`(${Q}Value${Q}\\s*:\\s*${Q})[^"\\\\]*(${Q}\\s*,\\s*${Q}Name${Q}\\s*:\\s*${Q}${TOKEN_NAME})`, "gi"),
  new RegExp(`(${Q}(?:sessionToken|refreshToken|SecretString|${TOKEN_NAME})${Q}\\s*:\\s*${Q})[^"\\\\]*`, "gi"),
  new RegExp(`(${TOKEN_NAME}=)[^\\s"',;]+`, "g"),
];

export function scrubTokens(text: string): string {
  return TOKEN_FIELDS.reduce((out, re) => out.replace(re, (_m, a: string, b?: string) => (typeof b === "string" ? `${a}***${b}` : `${a}***`)), text);
}

/** The upload step's summary, which the envelope's Succeeded state outputs as `outputs` of `$.ctx`; nothing when the run had no destination. */
function uploadedOutputs(output: string | undefined): { outputs?: ExecutionOutputs } {
  if (!output) return {};
  try {
    const parsed = ExecutionOutputsSchema.safeParse((JSON.parse(output) as { outputs?: unknown }).outputs);
    return parsed.success ? { outputs: parsed.data } : {};
  } catch {
    return {};
  }
}

function childExecutionArn(output: string | undefined): string | undefined {
  try {
    const value = JSON.parse(output ?? "") as { ExecutionArn?: string; executionArn?: string };
    return value.ExecutionArn ?? value.executionArn;
  } catch {
    return undefined;
  }
}

async function definitionOf(clients: AwsClients, executionArn: string, stateMachineArn: string | undefined): Promise<AslStateMachine> {
  try {
    const out = await clients.limits.run("sfn:DescribeStateMachineForExecution", () => clients.sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn })));
    return JSON.parse(out.definition!) as AslStateMachine;
  } catch (err) {
    // Endpoints without DescribeStateMachineForExecution (moto) fall back to the machine's current definition.
    if (!stateMachineArn) throw toRuntimeError(err, `DescribeStateMachineForExecution ${executionArn}`);
    const out = await clients.limits.run("sfn:DescribeStateMachine", () => clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: stateMachineArn! }))).catch((e) => {
      throw toRuntimeError(e, `DescribeStateMachine ${stateMachineArn}`);
    });
    return JSON.parse(out.definition!) as AslStateMachine;
  }
}

/**
 * The SFN client behind the shared per-operation rate limits (GetExecutionHistory's budget is 20/s),
 * failures as runtime errors: what the history readers of lib/runtime/aws/history.ts take.
 */
function limitedSfn(clients: AwsClients): Pick<SFNClient, "send"> {
  const send = (command: { constructor: { name: string }; input: { executionArn?: string; mapRunArn?: string } }) => {
    const operation = command.constructor.name.replace(/Command$/, "");
    return clients.limits.run(`sfn:${operation}`, () => clients.sfn.send(command as never)).catch((err) => {
      throw toRuntimeError(err, command.input.mapRunArn ? `${operation} of map run ${command.input.mapRunArn}` : `${operation} ${command.input.executionArn}`);
    });
  };
  return { send: send as unknown as SFNClient["send"] };
}
