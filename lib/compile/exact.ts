import { CompileError } from "../errors";
import { ScheduleUnit } from "../plan/units";
import { IndexedDag } from "../plan/structure";
import { AslGraph, AslStateMachine } from "./asl/types";
import { ChainableState, State } from "./asl/state";
import { ChoiceState } from "./asl/choice";
import { FailState } from "./asl/fail";
import { MapState } from "./asl/map";
import { ParallelState } from "./asl/parallel";
import { PassState } from "./asl/pass";
import { StateGraph } from "./asl/graph";
import { StateNames } from "./names";
import { CompileTarget, childStateMachineArn } from "./target";
import { CompileLimits, EVENTS } from "./limits";
import { Fragment } from "./units-render";
import { childComment, exactComment } from "./markers";
import { joinAbortTask, joinReleaseTask, joinWaitTask } from "../integrations/join/asl";
import { startChildTask } from "../integrations/child/asl";
import { TaskState } from "./asl/task";
import { RUN_ERROR_PATH } from "../integrations/processor/asl";

export interface ExactInput {
  workflowName: string;
  units: ScheduleUnit[];
  dag: IndexedDag;
  fragments: Fragment[];
  target: CompileTarget;
  names: StateNames;
  limits: CompileLimits;
}

export interface ExactBody {
  /** The envelope's Body branch. */
  body: AslGraph;
  bodyEvents: number;
  children: Record<string, AslStateMachine>;
  childEvents: Record<string, number>;
}

/** One unit's iteration: [Wait] → its states → [Release]. `key` is the unit's index in the compiled order. */
interface UnitChain {
  key: string;
  first: string;
  states: [string, State][];
  bytes: number;
  events: number;
}

/** An exact Map's item list lives in the state (256 KiB payload limit) and AWS runs at most 10,000 iterations at once: a part that waited on a later item past that could deadlock. */
const MAX_PART_KEY_BYTES = 64 * 1024;
const MAX_PART_UNITS = 10_000;
/** A join Task's `after` or `dependants` list: far below the 256 KiB state input and a DynamoDB item's 400 KB. */
const MAX_JOIN_LIST_BYTES = 64 * 1024;
/** Pass + Map + Abort + Fail of one part, the Choice's Default and the machine's own fields. */
const PART_OVERHEAD_BYTES = 2_000;
const CHILD_BRANCH_BYTES = 800;
/** A Choice rule: `{"Variable":"$.u","StringEquals":<key>,"Next":<name>},`. */
const RULE_BYTES = Buffer.byteLength(`{"Variable":"$.u","StringEquals":,"Next":},`) + 4;

/**
 * Exact mode: every unit is an iteration of a Distributed Map and starts when its own dependencies
 * have finished, whatever the DAG's shape. Units with dependencies wait on a task token that the
 * join function releases when the last of them finishes; units with dependants release them. A part
 * too large for one machine's definition becomes a child machine; all parts start together and
 * their units join across machines through the same join table. Parts hold units in topological
 * order, so each Map's earliest unfinished item never waits on an item that has not started.
 */
export function exactBody(input: ExactInput): ExactBody {
  const { units, dag, fragments, target, names, limits } = input;
  const dependants: number[][] = units.map(() => []);
  dag.preds.forEach((preds, v) => preds.forEach((u) => dependants[u].push(v)));
  const chains = units.map((_, u) => unitChain(input, u, dag.preds[u].map(unitKey), dependants[u].map(unitKey), fragments[u]));

  const machineBudget = limits.definitionBytes - 4_000;
  const perIterationBudget = limits.historyEvents;
  for (const chain of chains)
    if (chain.events + EVENTS.execution + EVENTS.choice > perIterationBudget || chain.bytes + PART_OVERHEAD_BYTES > machineBudget) {
      const ids = units[chains.indexOf(chain)].members.map((p) => p.id);
      throw new CompileError("limit_exceeded", `processor${ids.length > 1 ? "s" : ""} ${ids.map((id) => `"${id}"`).join(", ")} alone exceed${ids.length > 1 ? "" : "s"} the per-machine budget (${perIterationBudget} history events, ${machineBudget} bytes)`, ids);
    }

  const parts = packParts(chains, machineBudget);
  if (parts.length === 1) {
    const graph = new StateGraph("the workflow body");
    const first = addPart(graph, input, parts[0], "body");
    return { body: graph.toGraphJson(first), bodyEvents: PART_EVENTS, children: {}, childEvents: {} };
  }
  const children: Record<string, AslStateMachine> = {};
  const childEvents: Record<string, number> = {};
  const branches = parts.map((part, i) => {
    const child = `c${i + 1}`;
    const graph = new StateGraph(`child machine ${child}`);
    const first = addPart(graph, input, part, child);
    children[child] = { Comment: `${input.workflowName}: exact part ${child} (${part.length} units)`, ...graph.toGraphJson(first) };
    childEvents[child] = EVENTS.execution + PART_EVENTS;
    const branch = new StateGraph(`branch ${i + 1} of the exact parts`);
    const name = names.name("Child", child);
    branch.add(name, startChildTask(childStateMachineArn(target, input.workflowName, child), childComment(child))).markEndOfBranch();
    return branch.toGraphJson(name);
  });
  if (parts.length * CHILD_BRANCH_BYTES > machineBudget)
    throw new CompileError("limit_exceeded", `the workflow needs ${parts.length} exact parts, more than one machine can start`, []);
  const graph = new StateGraph("the workflow body");
  const parallel = names.name("Parallel", "exact parts");
  graph.add(parallel, new ParallelState({ branches })).markEndOfBranch();
  return { body: graph.toGraphJson(parallel), bodyEvents: EVENTS.parallel + parts.length * EVENTS.syncTask, children, childEvents };
}

/**
 * Joins name units by index, not by processor ids: a join item holds its unit's whole `after` and
 * `done` sets, and DynamoDB items stop at 400 KB, keys at 1 KB; ids may be long.
 */
const unitKey = (u: number) => String(u);

/** Pass (items) + Distributed Map, as the machine or body sees them. */
const PART_EVENTS = EVENTS.pass + EVENTS.distributedMap;

function unitChain(input: ExactInput, u: number, after: string[], dependantKeys: string[], fragment: Fragment): UnitChain {
  const { names, target, units } = input;
  const key = unitKey(u);
  const label = units[u].members.length > 1 ? `${units[u].members[0].id} +${units[u].members.length - 1}` : units[u].members[0].id;
  if (Buffer.byteLength(JSON.stringify(after)) > MAX_JOIN_LIST_BYTES || Buffer.byteLength(JSON.stringify(dependantKeys)) > MAX_JOIN_LIST_BYTES)
    throw new CompileError("limit_exceeded", `processor "${units[u].members[0].id}" has too many direct dependencies or dependants for one join (${after.length} and ${dependantKeys.length}); add an intermediate processor`, [units[u].members[0].id]);
  const states: [string, ChainableState | State][] = [];
  let events = fragment.events;
  let first = fragment.first;
  if (after.length) {
    const name = names.name("Wait", label);
    const wait = joinWaitTask(target.joinFunctionArn, key, after);
    wait.setNext(fragment.first);
    states.push([name, wait]);
    first = name;
    events += EVENTS.lambdaTask;
  }
  states.push(...fragment.states);
  let last: ChainableState = fragment.last;
  if (dependantKeys.length) {
    const name = names.name("Release", label);
    const release = joinReleaseTask(target.joinFunctionArn, [key], dependantKeys);
    last.setNext(name);
    states.push([name, release]);
    last = release;
    events += EVENTS.lambdaTask;
  }
  last.markEndOfBranch();
  let bytes = RULE_BYTES + 2 * jsonBytes(key) + Buffer.byteLength(first);
  for (const [name, state] of states) bytes += Buffer.byteLength(name) + Buffer.byteLength(JSON.stringify(state.toStateJson())) + 4;
  return { key, first, states, bytes, events };
}

/** Consecutive chains (topological order) packed into parts that each fit one machine. */
function packParts(chains: UnitChain[], machineBudget: number): UnitChain[][] {
  const parts: UnitChain[][] = [];
  let current: UnitChain[] = [];
  let bytes = PART_OVERHEAD_BYTES;
  let keyBytes = 0;
  for (const chain of chains) {
    const k = jsonBytes(chain.key) + 1;
    if (current.length && (bytes + chain.bytes > machineBudget || keyBytes + k > MAX_PART_KEY_BYTES || current.length >= MAX_PART_UNITS)) {
      parts.push(current);
      current = [];
      bytes = PART_OVERHEAD_BYTES;
      keyBytes = 0;
    }
    current.push(chain);
    bytes += chain.bytes;
    keyBytes += k;
  }
  if (current.length) parts.push(current);
  return parts;
}

/**
 * Items → Map (Distributed: each iteration its own execution and history). Any failed iteration
 * fails the Map; its Catch aborts the instance's joins, so units waiting in other parts fail too
 * instead of waiting forever, then fails with the instance's first failure (a failed processor's
 * iteration aborts first, naming itself).
 */
function addPart(graph: StateGraph, input: ExactInput, part: UnitChain[], label: string): string {
  const { names, target } = input;
  const itemsName = names.name("Units", label);
  const mapName = names.name("Exact", label);
  const abortName = names.name("Abort", label);
  const failName = names.name("Failed", label);
  const selectName = names.name("Select unit", label);
  const unknownName = names.name("Unknown unit", label);

  const iteration = new StateGraph(`Map "${mapName}"`);
  iteration.add(selectName, new ChoiceState({ choices: part.map((c) => ({ Variable: "$.u", StringEquals: c.key, Next: c.first })), default: unknownName }));
  for (const chain of part) for (const [name, state] of chain.states) iteration.add(name, state);
  iteration.add(unknownName, new FailState({ error: "ComputeNode.UnknownUnit", cause: "the iteration's item names no unit of this part" }));

  const keys = part.map((c) => c.key);
  graph.add(itemsName, new PassState({ result: keys, resultPath: "$.units" })).setNext(mapName);
  const map = graph.add(
    mapName,
    new MapState({
      itemsPath: "$.units",
      itemSelector: { "ctx.$": "$.ctx", "u.$": "$$.Map.Item.Value" },
      iteration: iteration.toGraphJson(selectName),
      distributed: true,
      comment: exactComment(keys),
      resultPath: "$.units",
      catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: abortName }],
    }),
  );
  map.markEndOfBranch();
  // Reached when an iteration failed before any processor did (a merge, a token read): the Map's own error is then the first failure.
  const where = label === "body" ? "the workflow" : `part ${label}`;
  const abort = graph.add(abortName, joinAbortTask(target.joinFunctionArn, { failed: { literal: `a step of ${where}` }, error: { path: "$.error.Error" }, cause: { path: "$.error.Cause" } }, "$.error"));
  // The abort's own failure must not hide the Map's error.
  abort.props.catch = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.abortError", Next: failName }];
  abort.setNext(failName);
  graph.add(failName, new FailState({ errorPath: "$.error.Error", causePath: "$.error.Cause" }));
  return itemsName;
}

/** Exact mode's per-processor abort: the failure it records names the processor, with its error name and the sanitized cause. */
export function processorAbort(target: CompileTarget): (processorId: { literal: string } | { path: string }) => TaskState {
  return (id) =>
    "literal" in id
      ? joinAbortTask(target.joinFunctionArn, { failed: { literal: `processor ${JSON.stringify(id.literal)}` }, error: { path: `${RUN_ERROR_PATH}.Error` }, cause: { literal: `processor ${JSON.stringify(id.literal)} failed` } })
      : joinAbortTask(target.joinFunctionArn, { failed: { path: `States.Format('processor "{}"', ${id.path})` }, error: { path: `${RUN_ERROR_PATH}.Error` }, cause: { path: `States.Format('processor "{}" failed', ${id.path})` } });
}

const jsonBytes = (text: string) => Buffer.byteLength(JSON.stringify(text));
