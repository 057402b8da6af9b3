/**
 * A series-parallel schedule over the nodes of a DAG (node = index into the DAG's node list).
 * `series` runs its items one after another; `parallel` runs them together and waits for all.
 */
export type Structure =
  | { kind: "node"; node: number }
  | { kind: "series"; items: Structure[] }
  | { kind: "parallel"; items: Structure[] };

/** A DAG whose nodes are numbered in topological order: every predecessor has a smaller index. */
export interface IndexedDag {
  preds: number[][];
  /** Expected seconds per node (hints); equal when nothing is known. */
  weights: number[];
}

export function seriesOf(items: Structure[]): Structure {
  const flat = items.flatMap((s) => (s.kind === "series" ? s.items : [s]));
  return flat.length === 1 ? flat[0] : { kind: "series", items: flat };
}

export function parallelOf(items: Structure[]): Structure {
  const flat = items.flatMap((s) => (s.kind === "parallel" ? s.items : [s]));
  return flat.length === 1 ? flat[0] : { kind: "parallel", items: flat };
}

/** Makespan under unlimited parallelism: series adds, parallel takes the longest. */
export function structureMakespan(s: Structure, weights: number[]): number {
  switch (s.kind) {
    case "node":
      return weights[s.node];
    case "series":
      return s.items.reduce((sum, item) => sum + structureMakespan(item, weights), 0);
    case "parallel":
      return s.items.reduce((max, item) => Math.max(max, structureMakespan(item, weights)), 0);
  }
}

/** Earliest finish of every node when each starts as soon as its own predecessors finish: the lower bound. */
export function criticalPath(dag: IndexedDag): number {
  const finish = new Float64Array(dag.preds.length);
  let best = 0;
  dag.preds.forEach((preds, v) => {
    let start = 0;
    for (const p of preds) if (finish[p] > start) start = finish[p];
    finish[v] = start + dag.weights[v];
    if (finish[v] > best) best = finish[v];
  });
  return best;
}

export function structureNodes(s: Structure, out: number[] = []): number[] {
  if (s.kind === "node") out.push(s.node);
  else for (const item of s.items) structureNodes(item, out);
  return out;
}
