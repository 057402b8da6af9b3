import { IndexedDag, Structure, parallelOf, seriesOf } from "./structure";

/**
 * Turns a DAG into a series-parallel schedule that keeps every dependency.
 *
 * Recursively on a convex node set: disconnected parts run in parallel; a connected set is cut in
 * series, at every exact cut (each node before the cut precedes each node after it) when there is
 * one, so a series-parallel DAG gets no added ordering. A set with no exact cut is not series-parallel
 * there: it is cut at the downset D minimising `critical path(D) + critical path(rest)` under the
 * hints, among the cuts "everything that finishes by t" (earliest finish) and "everything that must
 * start before t" (latest start), ties broken by the least total added waiting.
 */
export function seriesParallelSchedule(dag: IndexedDag): Structure {
  return seriesParallelDecomposition(dag).structure;
}

export interface Decomposition {
  structure: Structure;
  /** Cuts that added ordering; 0 exactly when the DAG is series-parallel (up to transitive edges). */
  approximateCuts: number;
}

export function seriesParallelDecomposition(dag: IndexedDag): Decomposition {
  const d = new Decomposer(dag);
  const structure = d.run();
  return { structure, approximateCuts: d.approximateCuts };
}

class Decomposer {
  private readonly n: number;
  private readonly succs: number[][];
  private readonly weights: Float64Array;
  private readonly mark: Int32Array;
  private readonly pos: Int32Array;
  private stamp = 0;
  approximateCuts = 0;

  constructor(private readonly dag: IndexedDag) {
    this.n = dag.preds.length;
    this.succs = dag.preds.map(() => []);
    dag.preds.forEach((preds, v) => {
      for (const p of preds) {
        if (p >= v) throw new Error(`internal: node ${v} has predecessor ${p}, nodes must be in topological order`);
        this.succs[p].push(v);
      }
    });
    // A tiny positive weight on every node makes finish times strictly increase along edges, so a
    // cut always exists even when runtimes are 0; it never outweighs a real difference.
    const max = dag.weights.reduce((m, w) => Math.max(m, w), 0);
    const epsilon = (max > 0 ? max : 1) * 1e-6;
    this.weights = Float64Array.from(dag.weights, (w) => Math.max(0, w) + epsilon);
    this.mark = new Int32Array(this.n);
    this.pos = new Int32Array(this.n);
  }

  run(): Structure {
    if (this.n === 0) throw new Error("internal: cannot schedule an empty DAG");
    return this.decompose(Array.from({ length: this.n }, (_, i) => i));
  }

  private enter(set: number[]): number {
    const stamp = ++this.stamp;
    set.forEach((v, i) => {
      this.mark[v] = stamp;
      this.pos[v] = i;
    });
    return stamp;
  }

  private decompose(set: number[]): Structure {
    if (set.length === 1) return { kind: "node", node: set[0] };
    const components = this.components(set);
    if (components.length > 1) return parallelOf(components.map((c) => this.decompose(c)));
    const cuts = this.exactCuts(set);
    if (cuts.length > 0) {
      const segments: number[][] = [];
      let from = 0;
      for (const cut of [...cuts, set.length]) {
        segments.push(set.slice(from, cut));
        from = cut;
      }
      return seriesOf(segments.map((s) => this.decompose(s)));
    }
    this.approximateCuts++;
    const inFirst = this.bestApproximateCut(set);
    const first = set.filter((_, i) => inFirst[i]);
    const rest = set.filter((_, i) => !inFirst[i]);
    const cut = seriesOf([this.decompose(first), this.decompose(rest)]);
    // Greedy cuts can stack up waiting; one barrier per level of this part is the floor we keep.
    const levels = this.levelBarrier(set);
    return this.makespan(levels) < this.makespan(cut) ? levels : cut;
  }

  private makespan(s: Structure): number {
    switch (s.kind) {
      case "node":
        return this.weights[s.node];
      case "series":
        return s.items.reduce((sum, item) => sum + this.makespan(item), 0);
      case "parallel":
        return s.items.reduce((max, item) => Math.max(max, this.makespan(item)), 0);
    }
  }

  /** One parallel block per level (longest distance from a source inside the set). */
  private levelBarrier(set: number[]): Structure {
    const stamp = this.enter(set);
    const level = new Int32Array(set.length);
    const levels: number[][] = [];
    set.forEach((v, i) => {
      let l = 0;
      for (const p of this.dag.preds[v]) if (this.mark[p] === stamp && level[this.pos[p]] + 1 > l) l = level[this.pos[p]] + 1;
      level[i] = l;
      (levels[l] ??= []).push(v);
    });
    return seriesOf(levels.map((nodes) => parallelOf(nodes.map((node) => ({ kind: "node" as const, node })))));
  }

  /** Weakly connected parts, each in topological order, ordered by their first node. */
  private components(set: number[]): number[][] {
    const stamp = this.enter(set);
    const parent = Int32Array.from(set, (_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    };
    set.forEach((v, i) => {
      for (const p of this.dag.preds[v]) {
        if (this.mark[p] !== stamp) continue;
        const a = find(i);
        const b = find(this.pos[p]);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    });
    const byRoot = new Map<number, number[]>();
    set.forEach((v, i) => {
      const root = find(i);
      const list = byRoot.get(root);
      if (list) list.push(v);
      else byRoot.set(root, [v]);
    });
    return [...byRoot.values()];
  }

  /**
   * Prefix lengths k of the (topologically ordered) set such that every node of the prefix is an
   * ancestor of every node after it. Such a prefix is a prefix of every topological order, so
   * checking one order finds them all.
   */
  private exactCuts(set: number[]): number[] {
    const stamp = this.enter(set);
    const m = set.length;
    const words = (m + 31) >>> 5;
    const anc = new Uint32Array(m * words);
    set.forEach((v, i) => {
      const base = i * words;
      for (const p of this.dag.preds[v]) {
        if (this.mark[p] !== stamp) continue;
        const j = this.pos[p];
        const pb = j * words;
        for (let w = 0; w < words; w++) anc[base + w] |= anc[pb + w];
        anc[base + (j >>> 5)] |= 1 << (j & 31);
      }
    });
    const common = new Uint32Array(words).fill(0xffffffff);
    const cuts: number[] = [];
    for (let i = m - 1; i >= 1; i--) {
      const base = i * words;
      let count = 0;
      for (let w = 0; w < words; w++) {
        common[w] &= anc[base + w];
        count += popcount(common[w]);
      }
      // Node i's ancestors lie before it, so `common` (ancestors shared by nodes i..m-1) only has bits < i.
      if (count === i) cuts.push(i);
    }
    return cuts.reverse();
  }

  /** Which nodes of a connected set with no exact cut go first; see the class comment. */
  private bestApproximateCut(set: number[]): Uint8Array {
    const stamp = this.enter(set);
    const m = set.length;
    const w = Float64Array.from(set, (v) => this.weights[v]);
    const finish = new Float64Array(m);
    const tail = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let start = 0;
      for (const p of this.dag.preds[set[i]]) if (this.mark[p] === stamp && finish[this.pos[p]] > start) start = finish[this.pos[p]];
      finish[i] = start + w[i];
    }
    let total = 0;
    for (let i = m - 1; i >= 0; i--) {
      let after = 0;
      for (const s of this.succs[set[i]]) if (this.mark[s] === stamp && tail[this.pos[s]] > after) after = tail[this.pos[s]];
      tail[i] = w[i] + after;
      if (tail[i] > total) total = tail[i];
    }
    const byIndex = (key: Float64Array) =>
      Array.from({ length: m }, (_, i) => i).sort((a, b) => key[a] - key[b] || a - b);
    const latestStart = Float64Array.from(tail, (t) => total - t);
    type Candidate = { order: number[]; k: number; score: number };
    const candidates: Candidate[] = [];
    for (const key of [finish, latestStart]) {
      const order = byIndex(key);
      const restTail = new Float64Array(m + 1);
      for (let k = m - 1; k >= 0; k--) restTail[k] = Math.max(restTail[k + 1], tail[order[k]]);
      let firstFinish = 0;
      for (let k = 1; k < m; k++) {
        firstFinish = Math.max(firstFinish, finish[order[k - 1]]);
        if (key[order[k]] === key[order[k - 1]]) continue;
        candidates.push({ order, k, score: firstFinish + restTail[k] });
      }
    }
    if (candidates.length === 0) throw new Error("internal: a connected set of several nodes has no downset cut");
    const bestScore = candidates.reduce((b, c) => Math.min(b, c.score), Infinity);
    const tolerance = bestScore * 1e-9;
    let best: { inFirst: Uint8Array; waiting: number } | undefined;
    for (const c of candidates) {
      if (c.score > bestScore + tolerance) continue;
      const inFirst = new Uint8Array(m);
      let barrier = 0;
      for (let k = 0; k < c.k; k++) {
        inFirst[c.order[k]] = 1;
        barrier = Math.max(barrier, finish[c.order[k]]);
      }
      let waiting = 0;
      for (let i = 0; i < m; i++) if (!inFirst[i]) waiting += Math.max(0, barrier - (finish[i] - w[i]));
      if (!best || waiting < best.waiting - tolerance) best = { inFirst, waiting };
    }
    return best!.inFirst;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
