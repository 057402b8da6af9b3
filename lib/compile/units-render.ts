import { ChainableState, State } from "./asl/state";
import { FailState } from "./asl/fail";
import { MapState } from "./asl/map";
import { PassState } from "./asl/pass";
import { StateGraph } from "./asl/graph";
import { ResolvedProcessor } from "../plan/resolve";
import { ScheduleUnit } from "../plan/units";
import { StateNames } from "./names";
import { CompileTarget } from "./target";
import { mapComment, processorComment } from "./markers";
import { EVENTS, SFN_LIMITS } from "./limits";
import { HashRef, inputDirValue, mergeDirValue, outputDirValue } from "./paths";
import { mergeTask } from "../integrations/transfer/asl";
import { envFileArnValue, envFileTask, refreshTokenTask, resolveTokenTask } from "../integrations/tokens/asl";
import { processorRunTask, RUN_ERROR_PATH } from "../integrations/processor/asl";
import { TaskState } from "./asl/task";

/** A linear run of states with one entry and one exit (failure states hang off it). */
export interface Fragment {
  first: string;
  last: ChainableState;
  states: [string, State][];
  /** History events on the success path. */
  events: number;
}

export function addFragment(graph: StateGraph, fragment: Fragment): void {
  for (const [name, state] of fragment.states) graph.add(name, state);
}

export interface UnitRenderContext {
  target: CompileTarget;
  names: StateNames;
  byId: Map<string, ResolvedProcessor>;
  /** Exact mode: a failed processor first aborts the instance's joins, naming itself. */
  abort?: (processorId: { literal: string } | { path: string }) => TaskState;
}

/** Catch target of a failed run: the abort, which then continues to `then`, or `then` itself. */
function failureEntry(ctx: UnitRenderContext, label: string, processorId: { literal: string } | { path: string }, then: string): { entry: string; states: [string, State][] } {
  if (!ctx.abort) return { entry: then, states: [] };
  const name = ctx.names.name("Abort", label);
  const abort = ctx.abort(processorId);
  // The abort's own failure must not hide the processor's.
  abort.props.catch = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.abortError", Next: then }];
  abort.setNext(then);
  return { entry: name, states: [[name, abort]] };
}

/** Task definition or function a processor runs on. */
export function runTargetOf(target: CompileTarget, p: ResolvedProcessor): string {
  return p.computeType === "ecs" ? target.taskDefinitions[p.id] : target.lambdaFunctions[p.id];
}

export function renderUnit(ctx: UnitRenderContext, unit: ScheduleUnit): Fragment {
  return unit.members.length === 1 ? renderSingle(ctx, unit.members[0]) : renderGroup(ctx, unit.members);
}

/** [MergeInputs] → ResolveToken → run; merge first, so a Lambda processor's tokens are in the state as briefly as possible. */
function renderSingle(ctx: UnitRenderContext, p: ResolvedProcessor): Fragment {
  const { names, target } = ctx;
  const states: [string, State][] = [];
  const own: HashRef = { literal: p.hash };
  let events = 0;
  if (p.dependsOn.length > 1) {
    const merge = mergeTask(target.dataTransferFunctionArn, target.computeNodeId, { literal: p.id }, mergeDirValue(own), p.dependsOn.map((d) => ({ processorId: d, hash: ctx.byId.get(d)!.hash })));
    states.push([names.name("Merge", p.id), merge]);
    events += EVENTS.lambdaTask;
  }
  const tokenName = names.name("Token", p.id);
  const runName = names.name("Run", p.id);
  const failName = names.name("Failed", p.id);
  const failure = failureEntry(ctx, p.id, { literal: p.id }, failName);
  for (const [suffix, task] of tokenTasks(target, p)) states.push([suffix ? names.name(suffix, p.id) : tokenName, task]);
  const run = runState(ctx, p, own, failure.entry, processorComment(p.id));
  states.push([runName, run]);
  chain(states as [string, ChainableState][]);
  // The caught error keeps its name only: the cause of a failed runTask.sync is the task description,
  // container overrides (tokens) included. Exit code and stopped reason stay in the history event.
  states.push(...failure.states, [failName, new FailState({ errorPath: `${RUN_ERROR_PATH}.Error`, cause: `processor "${p.id}" failed` })]);
  events += tokenEvents(target, p) + (p.computeType === "ecs" ? EVENTS.syncTask : EVENTS.lambdaTask);
  return { first: states[0][0], last: run, states, events };
}

/**
 * Twins as one Map: a Pass lays out the items ({id, h}), each iteration merges (when there are
 * several dependencies), resolves its own token and runs one processor. More than 40 twins make a
 * Distributed Map: AWS runs an inline Map 40 iterations at a time, which would add waiting.
 */
function renderGroup(ctx: UnitRenderContext, members: ResolvedProcessor[]): Fragment {
  const { names, target } = ctx;
  const p = members[0];
  const label = `${p.id} +${members.length - 1}`;
  const itemsName = names.name("Items", label);
  const mapName = names.name("Map", label);
  const own: HashRef = { path: "$.p.h" };
  const inner: [string, ChainableState][] = [];
  let perItem = 0;
  if (p.dependsOn.length > 1) {
    const sources = p.dependsOn.map((d) => ({ processorId: d, hash: ctx.byId.get(d)!.hash }));
    inner.push([names.name("Merge", label), mergeTask(target.dataTransferFunctionArn, target.computeNodeId, { path: "$.p.id" }, mergeDirValue(own), sources)]);
    perItem += EVENTS.lambdaTask;
  }
  const describeName = names.name("Describe failure", label);
  const failName = names.name("Failed", label);
  const failure = failureEntry(ctx, label, { path: "$.p.id" }, describeName);
  for (const [suffix, task] of tokenTasks(target, p)) inner.push([names.name(suffix ?? "Token", label), task]);
  const run = runState(ctx, p, own, failure.entry);
  inner.push([names.name("Run", label), run]);
  perItem += tokenEvents(target, p) + (p.computeType === "ecs" ? EVENTS.syncTask : EVENTS.lambdaTask);
  chain(inner);
  run.markEndOfBranch();
  const iteration = new StateGraph(`Map "${mapName}"`);
  for (const [name, state] of inner) iteration.add(name, state);
  for (const [name, state] of failure.states) iteration.add(name, state);
  // Same rule as a single processor's failure: keep the error name, name the processor, drop the cause.
  const describe = iteration.add(describeName, new PassState({ parameters: { "Error.$": `${RUN_ERROR_PATH}.Error`, "Cause.$": "States.Format('processor \"{}\" failed', $.p.id)" } }));
  describe.setNext(failName);
  iteration.add(failName, new FailState({ errorPath: "$.Error", causePath: "$.Cause" }));

  const distributed = members.length > SFN_LIMITS.inlineMapConcurrency;
  const items = new PassState({ result: members.map((m) => ({ id: m.id, h: m.hash })), resultPath: "$.items" });
  items.setNext(mapName);
  const map = new MapState({
    itemsPath: "$.items",
    itemSelector: { "ctx.$": "$.ctx", "p.$": "$$.Map.Item.Value" },
    iteration: iteration.toGraphJson(inner[0][0]),
    distributed,
    comment: mapComment(members.map((m) => m.id)),
    resultPath: "$.items",
  });
  const events = EVENTS.pass + (distributed ? EVENTS.distributedMap : EVENTS.map + members.length * (EVENTS.mapIteration + perItem));
  return { first: itemsName, last: map, states: [[itemsName, items], [mapName, map]], events };
}

/** The run state of `p` (or of each twin of a Map, whose own hash is `own`), caught into `failState`. */
function runState(ctx: UnitRenderContext, p: ResolvedProcessor, own: HashRef, failState: string, comment?: string) {
  return processorRunTask({
    computeType: p.computeType,
    target: runTargetOf(ctx.target, p),
    inputDir: inputDirValue(p.dependsOn.map((d) => ctx.byId.get(d)!.hash), own),
    outputDir: outputDirValue(own),
    lambdaTimeout: p.timeout,
    retry: p.retry,
    comment,
    failState,
    gpu: p.gpu,
    network: ctx.target,
    envFile: envFileArnValue(ctx.target.envFileBucket, ctx.target.region, ctx.target.computeNodeId),
  });
}

/**
 * What hands the tokens over just before the run, named by suffix (undefined: "Token"): the
 * environment file for ECS; for Lambda, ResolveToken into the state (for the payload), after a
 * refresh when the node has a Cognito app client.
 */
function tokenTasks(target: CompileTarget, p: ResolvedProcessor): [string | undefined, TaskState][] {
  if (p.computeType === "ecs") return [[undefined, envFileTask(target.tokensFunctionArn, target.computeNodeId)]];
  return [...(target.refreshTokens ? [["Refresh", refreshTokenTask(target.tokensFunctionArn, target.computeNodeId)] as [string, TaskState]] : []), [undefined, resolveTokenTask()]];
}

/** History events of the states tokenTasks adds. */
function tokenEvents(target: CompileTarget, p: ResolvedProcessor): number {
  return p.computeType === "ecs" ? EVENTS.lambdaTask : EVENTS.sdkTask + (target.refreshTokens ? EVENTS.lambdaTask : 0);
}

function chain(states: [string, ChainableState][]): void {
  for (let i = 0; i + 1 < states.length; i++) states[i][1].setNext(states[i + 1][0]);
}
