import { IndexedDag, Structure, parallelOf, seriesOf, structureMakespan } from "./structure";

/**
 * Turns a DAG into a series-parallel schedule that keeps every dependency.
 *
 * Recursively on a convex node set: disconnected parts run in parallel; a connected set is cut in
 * series at every exact cut (each node before the cut precedes each node after it), so a
 * series-parallel DAG gets no added ordering. A set with no exact cut is not series-parallel there
 * and is cut into a downset D and the rest. Candidates are thresholds on four keys that never
 * decrease along an edge (earliest finish and latest start under the hints, depth, height); they are
 * ranked by an upper bound of what the recursion will make of them and a lower bound
 * (`critical path(D) + critical path(rest)`), the best few are decomposed in full within a work
 * budget, and the shortest is kept, unless one barrier per level of the set is shorter still.
 * docs/compiler.md explains the choices.
 */
export function seriesParallelSchedule(dag: IndexedDag, options: DecompositionOptions = {}): Structure {
  return seriesParallelDecomposition(dag, options).structure;
}

export interface DecompositionOptions {
  /** Multiplies the search budget (cut candidates tried in full): more finds shorter schedules on tangled DAGs, slower. @default 1 */
  effort?: number;
}

export interface Decomposition {
  structure: Structure;
  /** Cuts that added ordering; 0 exactly when the DAG is series-parallel (up to transitive edges). */
  approximateCuts: number;
}

export function seriesParallelDecomposition(dag: IndexedDag, options: DecompositionOptions = {}): Decomposition {
  const effort = Math.max(0, options.effort ?? 1);
  // Large DAGs get one ranking: compile time there is bounded by the size of the output.
  const rankings: Ranking[] = dag.preds.length <= PORTFOLIO_MAX_NODES ? ["upper", "lower"] : ["upper"];
  const first = new Decomposer(dag, effort / rankings.length, rankings[0]);
  let best = { structure: first.run(), approximateCuts: first.approximateCuts };
  // A series-parallel DAG never ranks a cut. Otherwise no single ranking predicts the best cut,
  // and a second one with its share of the budget often finds a shorter schedule.
  if (best.approximateCuts === 0) return best;
  let bestSpan = structureMakespan(best.structure, dag.weights);
  for (const ranking of rankings.slice(1)) {
    const d = new Decomposer(dag, effort / rankings.length, ranking);
    const structure = d.run();
    const span = structureMakespan(structure, dag.weights);
    if (span < bestSpan) {
      best = { structure, approximateCuts: d.approximateCuts };
      bestSpan = span;
    }
  }
  return best;
}

/** How cut candidates are ordered before the best few are tried: by upper bound first, or by lower bound first. */
type Ranking = "upper" | "lower";
/** DAGs up to this size are decomposed with both rankings and keep the shorter schedule. */
const PORTFOLIO_MAX_NODES = 1000;

/** Cut candidates tried in full at a non-series-parallel split, while the work budget lasts. */
const LOOKAHEAD = 6;
/** Node visits charged for ranking the cut candidates of a set, per node. */
const CANDIDATE_RANKING_COST = 30;
/** Node visits one tried candidate needs per node of the set before trying several is worth it. */
const MIN_WORK_PER_CANDIDATE = 4;
/** Sets up to this size are memoised by content (the same part recurs across candidates). */
const MEMO_MAX_SET = 4096;
/** Best cuts kept per candidate family. */
const PER_FAMILY = 6;
/** Work budget per node: node visits the lookahead may spend before falling back to one candidate per split. */
const WORK_PER_NODE = 150;
/** Small DAGs get this much search whatever their size: a few hundred milliseconds at most. */
const MIN_WORK = 5_000_000;

class Decomposer {
  private readonly n: number;
  private readonly succs: number[][];
  private readonly weights: Float64Array;
  private readonly mark: Int32Array;
  private readonly pos: Int32Array;
  private stamp = 0;
  approximateCuts = 0;
  private readonly workBudget: number;
  private readonly memo = new Map<string, Structure>();
  private readonly spans = new WeakMap<Structure, number>();
  /** Work arrays of levelsUpperBound, reused across its calls within this decomposition. */
  private readonly scratch = new Scratch();

  constructor(
    private readonly dag: IndexedDag,
    effort: number,
    private readonly ranking: Ranking,
  ) {
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
    // Small DAGs get a deep search whatever their size; large ones a budget linear in their size,
    // so the schedule stays a small part of a compile whose output grows with the DAG.
    this.workBudget = effort * (this.n <= PORTFOLIO_MAX_NODES ? Math.max(WORK_PER_NODE * this.n, MIN_WORK) : WORK_PER_NODE * this.n);
  }

  run(): Structure {
    if (this.n === 0) throw new Error("internal: cannot schedule an empty DAG");
    return this.decompose(Array.from({ length: this.n }, (_, i) => i), this.workBudget);
  }

  private enter(set: number[]): number {
    const stamp = ++this.stamp;
    set.forEach((v, i) => {
      this.mark[v] = stamp;
      this.pos[v] = i;
    });
    return stamp;
  }

  /**
   * `budget` is how many node visits this call and its sub-calls may spend: it is shared among
   * sub-sets by size, and among cut candidates when several are tried, so total work stays within
   * WORK_PER_NODE × n whatever the shape.
   */
  private decompose(set: number[], budget: number): Structure {
    if (set.length === 1) return { kind: "node", node: set[0] };
    const key = set.length <= MEMO_MAX_SET ? set.join(",") : undefined;
    const hit = key !== undefined ? this.memo.get(key) : undefined;
    if (hit) return hit;
    // The exact-cut test works on bitsets of the set's size: charge it as such.
    const result = this.decomposeUncached(set, Math.max(0, budget - set.length * (1 + set.length / 32)));
    if (key !== undefined) this.memo.set(key, result);
    return result;
  }

  private decomposeUncached(set: number[], budget: number): Structure {
    const share = (part: number[], of: number) => (budget * part.length) / of;
    const components = this.components(set);
    if (components.length > 1) return parallelOf(components.map((c) => this.decompose(c, share(c, set.length))));
    const cuts = this.exactCuts(set);
    if (cuts.length > 0) {
      const segments: number[][] = [];
      let from = 0;
      for (const cut of [...cuts, set.length]) {
        segments.push(set.slice(from, cut));
        from = cut;
      }
      return seriesOf(segments.map((s) => this.decompose(s, share(s, set.length))));
    }
    this.approximateCuts++;
    // Ranking the cut candidates costs a few dozen passes over the set.
    budget = Math.max(0, budget - CANDIDATE_RANKING_COST * set.length);
    // Each tried candidate costs about a full decomposition of the set: try several only while the budget pays for them.
    const affordable = Math.floor(budget / (set.length * MIN_WORK_PER_CANDIDATE));
    const candidates = this.approximateCutCandidates(set, Math.max(1, Math.min(LOOKAHEAD, affordable)));
    const each = budget / candidates.length;
    let best: { structure: Structure; span: number } | undefined;
    for (const inFirst of candidates) {
      const first = set.filter((_, i) => inFirst[i]);
      const rest = set.filter((_, i) => !inFirst[i]);
      const structure = seriesOf([this.decompose(first, (each * first.length) / set.length), this.decompose(rest, (each * rest.length) / set.length)]);
      const span = this.makespan(structure);
      if (!best || span < best.span) best = { structure, span };
    }
    // Greedy cuts can stack up waiting; one barrier per level of this part is the floor we keep.
    const levels = this.levelBarrier(set);
    return this.makespan(levels) < best!.span ? levels : best!.structure;
  }

  private makespan(s: Structure): number {
    if (s.kind === "node") return this.weights[s.node];
    const known = this.spans.get(s);
    if (known !== undefined) return known;
    const span = s.kind === "series" ? s.items.reduce((sum, item) => sum + this.makespan(item), 0) : s.items.reduce((max, item) => Math.max(max, this.makespan(item)), 0);
    this.spans.set(s, span);
    return span;
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

  /** Which nodes of a connected set with no exact cut may go first, best-scored first (see the class comment); at most `limit`. */
  private approximateCutCandidates(set: number[], limit: number): Uint8Array[] {
    const stamp = this.enter(set);
    const m = set.length;
    // The set's own edges, as compressed rows of local indices.
    const predStart = new Int32Array(m + 1);
    for (let i = 0; i < m; i++) {
      let count = 0;
      for (const p of this.dag.preds[set[i]]) if (this.mark[p] === stamp) count++;
      predStart[i + 1] = predStart[i] + count;
    }
    const predList = new Int32Array(predStart[m]);
    for (let i = 0, at = 0; i < m; i++) for (const p of this.dag.preds[set[i]]) if (this.mark[p] === stamp) predList[at++] = this.pos[p];
    const w = Float64Array.from(set, (v) => this.weights[v]);
    const finish = new Float64Array(m);
    const depth = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let start = 0;
      let d = 0;
      for (let e = predStart[i]; e < predStart[i + 1]; e++) {
        const p = predList[e];
        if (finish[p] > start) start = finish[p];
        if (depth[p] + 1 > d) d = depth[p] + 1;
      }
      finish[i] = start + w[i];
      depth[i] = d;
    }
    const tail = Float64Array.from(w);
    const height = new Float64Array(m);
    let total = 0;
    for (let i = m - 1; i >= 0; i--) {
      if (tail[i] > total) total = tail[i];
      for (let e = predStart[i]; e < predStart[i + 1]; e++) {
        const p = predList[e];
        if (w[p] + tail[i] > tail[p]) tail[p] = w[p] + tail[i];
        if (height[i] + 1 > height[p]) height[p] = height[i] + 1;
      }
    }
    const latestStart = Float64Array.from(tail, (t) => total - t);
    const negativeHeight = Float64Array.from(height, (h) => -h);
    type Candidate = { inFirst: Uint8Array; score: number; waiting: number; upper: number };
    const ranked: Candidate[] = [];
    const seen = new Set<number>();
    const restTail = new Float64Array(m + 1);
    // Each key is monotone along edges (never smaller at a successor), so "key below a threshold" is a downset.
    for (const key of [finish, latestStart, depth, negativeHeight]) {
      const keep = PER_FAMILY;
      const order = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => key[a] - key[b] || a - b);
      restTail[m] = 0;
      for (let k = m - 1; k >= 0; k--) restTail[k] = Math.max(restTail[k + 1], tail[order[k]]);
      // The PER_FAMILY lowest lower bounds of this family, kept sorted.
      const bestK: number[] = [];
      const bestScore: number[] = [];
      let firstFinish = 0;
      for (let k = 1; k < m; k++) {
        firstFinish = Math.max(firstFinish, finish[order[k - 1]]);
        if (key[order[k]] === key[order[k - 1]]) continue;
        const score = firstFinish + restTail[k];
        if (bestK.length === keep && score >= bestScore[keep - 1]) continue;
        let at = bestK.length;
        while (at > 0 && bestScore[at - 1] > score) at--;
        bestK.splice(at, 0, k);
        bestScore.splice(at, 0, score);
        if (bestK.length > keep) {
          bestK.pop();
          bestScore.pop();
        }
      }
      bestK.forEach((k, r) => {
        // Same prefix length of the same family's order is the same set; across families, a hash of the members.
        let hash = k;
        const inFirst = new Uint8Array(m);
        let barrier = 0;
        for (let j = 0; j < k; j++) {
          inFirst[order[j]] = 1;
          hash = (hash + Math.imul(order[j] + 1, 2654435761)) | 0;
          if (finish[order[j]] > barrier) barrier = finish[order[j]];
        }
        if (seen.has(hash)) return;
        seen.add(hash);
        let waiting = 0;
        for (let i = 0; i < m; i++) if (!inFirst[i] && barrier > finish[i] - w[i]) waiting += barrier - (finish[i] - w[i]);
        const upper = levelsUpperBound(this.scratch, predStart, predList, w, inFirst, 1) + levelsUpperBound(this.scratch, predStart, predList, w, inFirst, 0);
        ranked.push({ inFirst, score: bestScore[r], waiting, upper });
      });
    }
    // Rank by an upper bound on what the recursion will make of each side (it never does worse than
    // one barrier per level inside each connected part); the lower bound only breaks ties.
    if (this.ranking === "upper") ranked.sort((a, b) => a.upper - b.upper || a.score - b.score || a.waiting - b.waiting);
    else ranked.sort((a, b) => a.score - b.score || a.upper - b.upper || a.waiting - b.waiting);
    if (ranked.length === 0) throw new Error("internal: a connected set of several nodes has no downset cut");
    return ranked.slice(0, limit).map((c) => c.inFirst);
  }
}

/**
 * Makespan of the nodes with `side[i] === which` run as: connected parts in parallel, each part
 * one barrier per level. Linear time.
 */
function levelsUpperBound(scratch: Scratch, predStart: Int32Array, predList: Int32Array, w: Float64Array, side: Uint8Array, which: number): number {
  const m = w.length;
  const { parent, depth, maxDepth, root, offset, levelMax } = scratch.atLeast(m);
  for (let i = 0; i < m; i++) {
    parent[i] = i;
    depth[i] = 0;
    maxDepth[i] = -1;
    levelMax[i] = 0;
  }
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (let i = 0; i < m; i++) {
    if (side[i] !== which) continue;
    for (let e = predStart[i]; e < predStart[i + 1]; e++) {
      const p = predList[e];
      if (side[p] !== which) continue;
      if (depth[p] + 1 > depth[i]) depth[i] = depth[p] + 1;
      const a = find(i);
      const b = find(p);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  // Slots (part, level) laid out per part: part r owns [offset[r], offset[r] + maxDepth[r]]; at most m slots.
  for (let i = 0; i < m; i++) {
    if (side[i] !== which) continue;
    root[i] = find(i);
    if (depth[i] > maxDepth[root[i]]) maxDepth[root[i]] = depth[i];
  }
  let slots = 0;
  for (let r = 0; r < m; r++) {
    if (maxDepth[r] < 0) continue;
    offset[r] = slots;
    slots += maxDepth[r] + 1;
  }
  for (let i = 0; i < m; i++) {
    if (side[i] !== which) continue;
    const slot = offset[root[i]] + depth[i];
    if (w[i] > levelMax[slot]) levelMax[slot] = w[i];
  }
  let best = 0;
  for (let r = 0; r < m; r++) {
    if (maxDepth[r] < 0) continue;
    let sum = 0;
    for (let d = 0; d <= maxDepth[r]; d++) sum += levelMax[offset[r] + d];
    if (sum > best) best = sum;
  }
  return best;
}

/** Work arrays of levelsUpperBound, grown on demand and reused by one Decomposer (no module-level state). */
class Scratch {
  private buffers?: { parent: Int32Array; depth: Int32Array; maxDepth: Int32Array; root: Int32Array; offset: Int32Array; levelMax: Float64Array };
  atLeast(m: number) {
    if (!this.buffers || this.buffers.parent.length < m) {
      const size = Math.max(m, 64);
      this.buffers = { parent: new Int32Array(size), depth: new Int32Array(size), maxDepth: new Int32Array(size), root: new Int32Array(size), offset: new Int32Array(size), levelMax: new Float64Array(size) };
    }
    return this.buffers;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
