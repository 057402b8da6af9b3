import { expect } from "chai";
import { resolvePlan, ResolvedPlan } from "../../lib/plan/resolve";
import { analyzeMachines, AslGraph, AslState, AslStateMachine, CompiledWorkflow } from "../../lib/compile";

// The bench's seeded PRNG (mulberry32): property tests and synthetic benchmark DAGs draw from the same generator.
export { prng } from "../../bench/synthetic";

export type Edges = Record<string, string[]>;

/** A workflow from `{id: dependsOn}`, ids in the given order; every processor gets its own image unless `image` says otherwise. */
export function planOf(deps: Edges, options: { image?: (id: string) => string; processors?: unknown; name?: string } = {}): ResolvedPlan {
  const image = options.image ?? ((id: string) => `registry.example/${id.toLowerCase().replace(/[^a-z0-9]+/g, "-")}:1`);
  return resolvePlan({ name: options.name ?? "test", processors: Object.entries(deps).map(([id, dependsOn]) => ({ id, sourceUrl: image(id), dependsOn })) }, { processors: options.processors });
}

/** Random DAG: each node picks parents among earlier nodes with probability `density`. */
export function randomDag(random: () => number, size: number, density: number): Edges {
  const deps: Edges = {};
  for (let i = 0; i < size; i++) {
    const parents: string[] = [];
    for (let j = Math.max(0, i - 12); j < i; j++) if (random() < density) parents.push(`n${j}`);
    deps[`n${i}`] = parents;
  }
  return deps;
}

/** Random series-parallel DAG built by series and parallel composition of two-terminal pieces. */
export function randomSeriesParallelDag(random: () => number, targetSize: number): Edges {
  let counter = 0;
  type Piece = { nodes: string[]; sources: string[]; sinks: string[]; deps: Edges };
  const leaf = (): Piece => {
    const id = `s${counter++}`;
    return { nodes: [id], sources: [id], sinks: [id], deps: { [id]: [] } };
  };
  const series = (a: Piece, b: Piece): Piece => {
    const deps: Edges = { ...a.deps, ...b.deps };
    for (const s of b.sources) deps[s] = [...deps[s], ...a.sinks];
    return { nodes: [...a.nodes, ...b.nodes], sources: a.sources, sinks: b.sinks, deps };
  };
  const parallel = (a: Piece, b: Piece): Piece => ({ nodes: [...a.nodes, ...b.nodes], sources: [...a.sources, ...b.sources], sinks: [...a.sinks, ...b.sinks], deps: { ...a.deps, ...b.deps } });
  const build = (size: number): Piece => {
    if (size <= 1) return leaf();
    const left = 1 + Math.floor(random() * (size - 1));
    const a = build(left);
    const b = build(size - left);
    return random() < 0.5 ? series(a, b) : parallel(a, b);
  };
  const piece = build(targetSize);
  // Topological order: a DFS over deps.
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const d of piece.deps[id]) visit(d);
    order.push(id);
  };
  piece.nodes.forEach(visit);
  return Object.fromEntries(order.map((id) => [id, piece.deps[id]]));
}

/** Transitive closure: id → every ancestor. */
export function ancestors(deps: Edges): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const get = (id: string): Set<string> => {
    const hit = out.get(id);
    if (hit) return hit;
    const set = new Set<string>();
    for (const d of deps[id]) {
      set.add(d);
      for (const a of get(d)) set.add(a);
    }
    out.set(id, set);
    return set;
  };
  Object.keys(deps).forEach(get);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (d: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };

export function allStates(graph: AslGraph, out: [string, AslState][] = []): [string, AslState][] {
  for (const [name, state] of Object.entries(graph.States)) {
    out.push([name, state]);
    if (state.Type === "Parallel") state.Branches.forEach((b) => allStates(b, out));
    if (state.Type === "Map") allStates(state.ItemProcessor, out);
  }
  return out;
}

export function machines(c: CompiledWorkflow): AslStateMachine[] {
  return [c.definition, ...Object.values(c.children)];
}

/** Exactly once, and every dependency finished before its dependant starts: read from the ASL. */
export function expectCorrectSchedule(deps: Edges, compiled: CompiledWorkflow) {
  const analysis = analyzeMachines(compiled, { precedence: true });
  expect([...analysis.runs.keys()].sort()).to.deep.equal(Object.keys(deps).sort());
  for (const [id, count] of analysis.runs) expect(count, `runs of ${id}`).to.equal(1);
  for (const [id, parents] of Object.entries(deps)) for (const p of parents) expect(analysis.before.get(id)!.has(p), `${p} finishes before ${id} starts`).to.equal(true);
  return analysis;
}

export function expectValid(compiled: CompiledWorkflow) {
  for (const m of machines(compiled)) {
    const { isValid, errorsText } = aslValidator(m);
    expect(isValid, errorsText("\n")).to.equal(true);
  }
}
