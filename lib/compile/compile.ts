import { CompileError, ValidationError } from "../errors";
import { ResolvedPlan, ResolvedProcessor } from "../plan/resolve";
import { ScheduleUnit, buildUnitDag } from "../plan/units";
import { IndexedDag, criticalPath } from "../plan/structure";
import { ScheduleMode, scheduleDag } from "../plan/schedule";
import { AslGraph, AslStateMachine } from "./asl/types";
import { ChainableState } from "./asl/state";
import { ParallelState } from "./asl/parallel";
import { StateGraph } from "./asl/graph";
import { StateNames } from "./names";
import { CompileTarget, childStateMachineArn, resolveTarget } from "./target";
import { CompileLimits, DEFAULT_LIMITS, EVENTS, SFN_LIMITS } from "./limits";
import { ENVELOPE, ENVELOPE_EVENTS, envelopeMachine } from "./envelope";
import { Fragment, addFragment, renderUnit, runTargetOf } from "./units-render";
import { childComment, readMarkers } from "./markers";
import { startChildTask } from "../integrations/child/asl";
import { exactBody, processorAbort } from "./exact";

import { StructureMode } from "./structure-modes";
export { STRUCTURE_MODES } from "./structure-modes";
export type { StructureMode } from "./structure-modes";

export interface CompileOptions {
  target?: Partial<CompileTarget>;
  /** Expected seconds per processor id (`--hints`, or hintsFromRecords); without them runtimes are assumed equal. */
  hints?: Record<string, number>;
  /**
   * `auto` takes the series-parallel structure unless one barrier per level is faster under the hints,
   * and exact mode when even the better of them waits more than `exactAbove` allows; the others force
   * one structure. `exact` runs every processor as soon as its own dependencies finish (docs/compiler.md).
   * @default "auto"
   */
  structure?: StructureMode;
  /** Multiplies the schedule search budget: higher finds shorter schedules on tangled non-series-parallel DAGs and compiles slower. @default 1 */
  scheduleEffort?: number;
  /** Twins (same image, resources, dependencies and dependants) run as one Map from this many on. @default 4 */
  mapMinGroup?: number;
  /** Planning budgets per machine, below Step Functions' hard limits. */
  limits?: Partial<CompileLimits>;
  /**
   * Whether the target can run exact mode (its node has the join function and table). When false,
   * `auto` never picks exact and `structure: "exact"` is a CompileError. @default true
   */
  exactAvailable?: boolean;
  /**
   * In `auto`, the nested-Parallel schedule is kept while makespan / critical path (under the hints)
   * stays at or below this; above it the workflow compiles in exact mode. @default 1.01
   */
  exactAbove?: number;
  /**
   * Seconds one join adds to a unit's start in exact mode (Lambda invoke, a DynamoDB update and
   * SendTaskSuccess). With hints, `auto` takes exact mode only if the critical path with this added
   * per join still beats the nested-Parallel makespan. @default 0.5
   */
  joinOverheadSeconds?: number;
}

export interface MachineStats {
  states: number;
  /** UTF-8 bytes of the compact JSON definition. */
  bytes: number;
  /** History events of one successful execution of this machine (child machines and Distributed Map iterations have their own). */
  estimatedHistoryEvents: number;
}

export interface CompileStats extends MachineStats {
  processors: number;
  /** The largest figure of each kind over all machines (main and children): what the limits bind. */
  maxMachine: MachineStats;
  children: number;
  strategy: "series-parallel" | "level-barrier" | "exact";
  /** True when the machine adds no ordering at all: a series-parallel DAG, or exact mode. */
  exact: boolean;
  /** Makespan of the best nested-Parallel structure, when one was computed (all modes but `exact`). */
  nestedParallelMakespan?: number;
  /** Under the hints (or equal runtimes), unlimited parallelism. */
  makespan: number;
  criticalPath: number;
  levelBarrierMakespan: number;
}

export interface CompiledWorkflow {
  /** The main machine (STANDARD): what the execution starts. */
  definition: AslStateMachine;
  /** Child machines by name, started by the main machine's `child:<name>` Tasks; empty when everything fits one machine. */
  children: Record<string, AslStateMachine>;
  stats: CompileStats;
}

/** The schedule with some parts moved into child machines. */
type Placed = { kind: "node"; node: number } | { kind: "series" | "parallel"; items: Placed[] } | { kind: "child"; body: Placed };

interface Cost {
  events: number;
  bytes: number;
}

const PARALLEL_BYTES = 160;
const BRANCH_BYTES = 40;
const CHILD_TASK_BYTES = 700;

/**
 * Compiles a resolved plan into Amazon States Language (STANDARD). Pure: no I/O, no clock, and the
 * same plan and options give byte-identical output. Throws CompileError when a limit cannot be met.
 */
export function compileWorkflow(plan: ResolvedPlan, options: CompileOptions = {}): CompiledWorkflow {
  const target = resolveTarget(plan, options.target);
  const limits: CompileLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const byId = new Map(plan.processors.map((p) => [p.id, p]));
  const renderKey = (p: ResolvedProcessor) => JSON.stringify([p.computeType, runTargetOf(target, p), p.timeout, p.gpu, p.retry ?? null]);
  const { units, dag } = buildUnitDag(plan.processors, { minGroupSize: options.mapMinGroup ?? 4, renderKey, hints: options.hints });

  const mode = options.structure ?? "auto";
  const exactAvailable = options.exactAvailable ?? true;
  if (mode === "exact" && !exactAvailable)
    throw new CompileError("exact_unavailable", "exact mode needs the node's join function and table (stack outputs joinFunctionArn, joinTableName): update the node, or compile with another structure", []);
  // Exact mode never renders the nested structure, so it skips the search and keeps only the baseline figures.
  const schedule = scheduleDag(dag, { mode: mode === "exact" ? "level-barrier" : mode, effort: options.scheduleEffort });
  const exactAbove = options.exactAbove ?? 1.01;
  // Below 1 every DAG, series-parallel ones included, would "wait too long" and go exact.
  if (!Number.isFinite(exactAbove) || exactAbove < 1)
    throw new ValidationError([{ code: "invalid_exact_above", path: ["exactAbove"], message: `exactAbove must be a number of at least 1 (a makespan / critical path ratio), got ${exactAbove}` }]);
  const joinOverhead = options.joinOverheadSeconds ?? 0.5;
  const useExact =
    mode === "exact" ||
    (mode === "auto" &&
      exactAvailable &&
      schedule.makespan > schedule.criticalPath * exactAbove &&
      // Hints are seconds: then each join's round trip counts, and short tasks may run sooner nested.
      (options.hints === undefined || exactEstimate(dag, joinOverhead) < schedule.makespan));

  const sinks = plan.processors.filter((p) => p.dependants.length === 0).map((p) => ({ processorId: p.id, hash: p.hash }));
  const names = new StateNames();
  for (const name of Object.values(ENVELOPE)) names.reserve(name);
  const fragments = units.map((unit) => renderUnit({ target, names, byId, ...(useExact ? { abort: processorAbort(target) } : {}) }, unit));
  if (useExact) {
    const exact = exactBody({ workflowName: plan.workflow.name, units, dag, fragments, target, names, limits });
    const definition = envelopeMachine(target, exact.body, `${plan.workflow.name}: ${plan.processors.length} processors (exact)`, sinks);
    return finish(plan, definition, exact.children, ENVELOPE_EVENTS + exact.bodyEvents, exact.childEvents, {
      strategy: "exact",
      exact: true,
      makespan: schedule.criticalPath,
      criticalPath: schedule.criticalPath,
      levelBarrierMakespan: schedule.levelBarrierMakespan,
      ...(mode === "exact" ? {} : { nestedParallelMakespan: schedule.makespan }),
    });
  }
  const structure = schedule.structure;
  const sizes = unitSizes(units, fragments, renderKey, byId);
  const unitCost = fragments.map((f, i) => ({ events: f.events, bytes: sizes[i] }));

  const costOf = memoCost(unitCost);
  // The envelope: about 4 KB of states plus the upload step's list of sinks.
  const envelopeBytes = 4000 + JSON.stringify(sinks).length;
  const placeBudget = (extraEvents: number): Cost => ({ events: limits.historyEvents - extraEvents, bytes: limits.definitionBytes - envelopeBytes });
  const body = fit(structure, placeBudget(ENVELOPE_EVENTS), costOf, placeBudget(EVENTS.execution), units);

  const children: Record<string, AslStateMachine> = {};
  const childEventCounts: Record<string, number> = {};
  let parallelCount = 0;
  let childCount = 0;
  const render = (s: Placed, graph: StateGraph): { first: string; last: ChainableState } => {
    switch (s.kind) {
      case "node": {
        const fragment: Fragment = fragments[s.node];
        addFragment(graph, fragment);
        return { first: fragment.first, last: fragment.last };
      }
      case "series": {
        const parts = s.items.map((item) => render(item, graph));
        for (let i = 0; i + 1 < parts.length; i++) parts[i].last.setNext(parts[i + 1].first);
        return { first: parts[0].first, last: parts[parts.length - 1].last };
      }
      case "parallel": {
        const name = names.name("Parallel", String(++parallelCount));
        const branches = s.items.map((item, i) => renderScope(item, `branch ${i + 1} of "${name}"`));
        const state = graph.add(name, new ParallelState({ branches }));
        return { first: name, last: state };
      }
      case "child": {
        const child = `c${++childCount}`;
        childEventCounts[child] = EVENTS.execution + costOf(s.body).events;
        children[child] = { Comment: `${plan.workflow.name}: part ${child}`, ...renderScope(s.body, `child machine ${child}`) };
        const name = names.name("Child", child);
        const task = graph.add(name, startChildTask(childStateMachineArn(target, plan.workflow.name, child), childComment(child)));
        return { first: name, last: task };
      }
    }
  };
  const renderScope = (s: Placed, scope: string): AslGraph => {
    const graph = new StateGraph(scope);
    const { first, last } = render(s, graph);
    last.markEndOfBranch();
    return graph.toGraphJson(first);
  };

  const definition = envelopeMachine(target, renderScope(body, "the workflow body"), `${plan.workflow.name}: ${plan.processors.length} processors`, sinks);
  return finish(plan, definition, children, ENVELOPE_EVENTS + costOf(body).events, childEventCounts, {
    strategy: schedule.strategy,
    exact: schedule.exact,
    makespan: schedule.makespan,
    criticalPath: schedule.criticalPath,
    levelBarrierMakespan: schedule.levelBarrierMakespan,
    nestedParallelMakespan: schedule.makespan,
  });
}

type ScheduleStats = Pick<CompileStats, "strategy" | "exact" | "makespan" | "criticalPath" | "levelBarrierMakespan" | "nestedParallelMakespan">;

/** Measures every finished machine and refuses any over a hard limit: the compiler never emits an invalid machine. */
function finish(plan: ResolvedPlan, definition: AslStateMachine, children: Record<string, AslStateMachine>, mainEvents: number, childEventCounts: Record<string, number>, schedule: ScheduleStats): CompiledWorkflow {
  const main = machineStats(definition, mainEvents);
  const childStats = Object.entries(children).map(([name, machine]) => ({ name, ...machineStats(machine, childEventCounts[name]) }));
  const all: (MachineStats & { name: string })[] = [{ name: "main", ...main }, ...childStats];
  const problems = all.filter((m) => m.bytes > SFN_LIMITS.definitionBytes || m.estimatedHistoryEvents > SFN_LIMITS.historyEvents);
  if (problems.length)
    throw new CompileError(
      "limit_exceeded",
      `the compiled workflow exceeds Step Functions limits: ${problems.map((m) => `${m.name} has ${m.bytes} bytes (max ${SFN_LIMITS.definitionBytes}) and ~${m.estimatedHistoryEvents} history events (max ${SFN_LIMITS.historyEvents})`).join("; ")}`,
    );
  const oversized = [definition, ...Object.values(children)].flatMap(oversizedTaskInputs);
  if (oversized.length) {
    const ids = [...new Set(oversized.flatMap((o) => o.processorIds))];
    throw new CompileError(
      "limit_exceeded",
      `a Task's input would exceed Step Functions' ${SFN_LIMITS.payloadBytes}-byte payload limit: ${oversized.map((o) => `state "${o.state}"${o.processorIds.length ? ` (processor${o.processorIds.length > 1 ? "s" : ""} ${o.processorIds.map((id) => `"${id}"`).join(", ")})` : ""} has ~${o.bytes} bytes of parameters`).join("; ")}; give such a processor fewer direct dependencies (an intermediate processor can gather them)`,
      ids,
    );
  }
  const maxMachine: MachineStats = {
    states: Math.max(...all.map((m) => m.states)),
    bytes: Math.max(...all.map((m) => m.bytes)),
    estimatedHistoryEvents: Math.max(...all.map((m) => m.estimatedHistoryEvents)),
  };
  return {
    definition,
    children,
    stats: {
      processors: plan.processors.length,
      ...main,
      maxMachine,
      children: childStats.length,
      ...schedule,
    },
  };
}

/**
 * Definition bytes of each rendered unit. Single processors of one shape (render key, one, none or
 * several dependencies) differ only in ids, state names and dependency ids, so one of each shape is
 * measured and the others are derived from it, counting each difference at its most frequent use.
 * Errors only move the split into child machines; the finished machines are measured exactly.
 */
function unitSizes(units: ScheduleUnit[], fragments: Fragment[], renderKey: (p: ResolvedProcessor) => string, byId: Map<string, ResolvedProcessor>): number[] {
  const exemplars = new Map<string, { bytes: number; id: number; names: number; sources: number }>();
  const jsonBytes = (text: string) => Buffer.byteLength(JSON.stringify(text));
  return fragments.map((f, i) => {
    const members = units[i].members;
    if (members.length > 1) return fragmentBytes(f);
    const p = members[0];
    const shape = `${renderKey(p)}|${Math.min(p.dependsOn.length, 2)}`;
    const id = jsonBytes(p.id);
    const names = f.states.reduce((n, [name]) => n + Buffer.byteLength(name), 0);
    const sources = p.dependsOn.length > 1 ? p.dependsOn.reduce((n, d) => n + jsonBytes(d) + jsonBytes(byId.get(d)!.hash) + MERGE_SOURCE_BYTES, 0) : 0;
    const exemplar = exemplars.get(shape);
    if (!exemplar) {
      const bytes = fragmentBytes(f);
      exemplars.set(shape, { bytes, id, names, sources });
      return bytes;
    }
    // An id appears up to 3 times (Comment, Fail cause, merge payload), a name twice (key and reference).
    const grow = (diff: number, most: number, least: number) => diff * (diff > 0 ? most : least);
    return exemplar.bytes + grow(id - exemplar.id, 3, 2) + grow(names - exemplar.names, 2, 2) + (sources - exemplar.sources);
  });
}

/** `{"processorId":,"dir.$":"States.Format('{}/', $.ctx.workdir)"},` around a merge source's id and hash. */
const MERGE_SOURCE_BYTES = Buffer.byteLength(`{"processorId":,"dir.$":"States.Format('{}/', $.ctx.workdir)"},`) + 4;

function fragmentBytes(f: Fragment): number {
  let bytes = 0;
  for (const [name, state] of f.states) bytes += Buffer.byteLength(name) + Buffer.byteLength(JSON.stringify(state.toStateJson())) + 40;
  return bytes;
}

function memoCost(unitCost: Cost[]) {
  const memo = new WeakMap<object, Cost>();
  const cost = (s: Placed): Cost => {
    const hit = memo.get(s);
    if (hit) return hit;
    let c: Cost;
    switch (s.kind) {
      case "node":
        c = unitCost[s.node];
        break;
      case "child":
        c = { events: EVENTS.syncTask, bytes: CHILD_TASK_BYTES };
        break;
      case "series":
      case "parallel": {
        c = { events: s.kind === "parallel" ? EVENTS.parallel : 0, bytes: s.kind === "parallel" ? PARALLEL_BYTES : 0 };
        for (const item of s.items) {
          const ic = cost(item);
          c = { events: c.events + ic.events, bytes: c.bytes + ic.bytes + (s.kind === "parallel" ? BRANCH_BYTES : 0) };
        }
      }
    }
    memo.set(s, c);
    return c;
  };
  return cost;
}

const fits = (c: Cost, budget: Cost) => c.events <= budget.events && c.bytes <= budget.bytes;

/**
 * Moves parts of the structure into child machines until the part left in this machine fits the
 * budget, and so does every child. Exact: a series or parallel of children keeps the same order.
 */
function fit(s: Placed, budget: Cost, cost: (s: Placed) => Cost, childBudget: Cost, units: ScheduleUnit[]): Placed {
  if (fits(cost(s), budget)) return s;
  if (s.kind === "node" || s.kind === "child") {
    const ids = s.kind === "node" ? units[s.node].members.map((p) => p.id) : [];
    throw new CompileError("limit_exceeded", `processor${ids.length > 1 ? "s" : ""} ${ids.map((id) => `"${id}"`).join(", ")} alone exceed${ids.length > 1 ? "" : "s"} the per-machine budget (${budget.events} history events, ${budget.bytes} bytes)`, ids);
  }
  const items = s.items.map((item) => (fits(cost(item), childBudget) ? item : fit(item, childBudget, cost, childBudget, units)));
  const kind = s.kind;
  const group = (list: Placed[]): Placed => (list.length === 1 ? list[0] : { kind, items: list });
  const inline = group(items);
  if (fits(cost(inline), budget)) return inline;
  // Pack consecutive items into chunks that each fit a child machine, then move chunks out,
  // largest first, only until what stays here fits: small parts keep running in this machine.
  const chunks: Placed[][] = [];
  let current: Placed[] = [];
  let used: Cost = { events: EVENTS.parallel, bytes: PARALLEL_BYTES };
  for (const item of items) {
    const c = cost(item);
    if (current.length && !fits({ events: used.events + c.events, bytes: used.bytes + c.bytes + BRANCH_BYTES }, childBudget)) {
      chunks.push(current);
      current = [];
      used = { events: EVENTS.parallel, bytes: PARALLEL_BYTES };
    }
    current.push(item);
    used = { events: used.events + c.events, bytes: used.bytes + c.bytes + BRANCH_BYTES };
  }
  chunks.push(current);
  const moved = chunks.map(() => false);
  const build = () => group(chunks.flatMap((chunk, i) => (moved[i] ? [{ kind: "child" as const, body: group(chunk) }] : chunk)));
  const bySize = chunks.map((chunk, i) => ({ i, bytes: cost(group(chunk)).bytes, events: cost(group(chunk)).events })).sort((a, b) => b.events / budget.events + b.bytes / budget.bytes - (a.events / budget.events + a.bytes / budget.bytes) || a.i - b.i);
  let placed = build();
  for (const { i } of bySize) {
    if (fits(cost(placed), budget)) break;
    moved[i] = true;
    placed = build();
  }
  if (fits(cost(placed), budget)) return placed;
  // Too many children for this machine: nest them one level deeper.
  return fit(placed, budget, cost, childBudget, units);
}

/** Critical path with every join a unit waits on costing `overhead` seconds more. */
function exactEstimate(dag: IndexedDag, overhead: number): number {
  return criticalPath({ preds: dag.preds, weights: dag.weights.map((w, v) => w + (dag.preds[v].length ? overhead : 0)) });
}

/** Paths expand when evaluated (a workdir path per merge source), so Parameters are held well below the limit. */
const TASK_PARAMETERS_BUDGET = Math.floor(SFN_LIMITS.payloadBytes * 0.6);

function oversizedTaskInputs(machine: AslStateMachine): { state: string; bytes: number; processorIds: string[] }[] {
  let markers: ReturnType<typeof readMarkers> | undefined;
  const out: { state: string; bytes: number; processorIds: string[] }[] = [];
  const visit = (graph: AslGraph) => {
    for (const [name, state] of Object.entries(graph.States)) {
      if (state.Type === "Parallel") state.Branches.forEach(visit);
      if (state.Type === "Map") visit(state.ItemProcessor);
      if (state.Type !== "Task" || !state.Parameters) continue;
      const bytes = Buffer.byteLength(JSON.stringify(state.Parameters));
      if (bytes > TASK_PARAMETERS_BUDGET) out.push({ state: name, bytes, processorIds: (markers ??= readMarkers(machine)).get(name)?.processorIds ?? [] });
    }
  };
  visit(machine);
  return out;
}

function machineStats(machine: AslStateMachine, estimatedHistoryEvents: number): MachineStats {
  return { states: countStates(machine), bytes: Buffer.byteLength(JSON.stringify(machine)), estimatedHistoryEvents };
}

export function countStates(graph: AslGraph): number {
  let n = 0;
  for (const state of Object.values(graph.States)) {
    n++;
    if (state.Type === "Parallel") for (const b of state.Branches) n += countStates(b);
    if (state.Type === "Map") n += countStates(state.ItemProcessor);
  }
  return n;
}

