import { ResolvedProcessor } from "./resolve";
import { IndexedDag } from "./structure";

/** Processors scheduled as one: a single processor, or twins (same dependencies, dependants and run target) that one Map runs. */
export interface ScheduleUnit {
  members: ResolvedProcessor[];
}

export interface UnitsOptions {
  /** Twins are grouped only in groups at least this large. */
  minGroupSize: number;
  /** Twins must also agree on this (image, resources, retry…): one Map iteration renders them all. */
  renderKey: (p: ResolvedProcessor) => string;
  /**
   * A group's item list (`{"id","h"}` per member) lives in the state: larger groups are split into
   * several groups of at most this many bytes, which run side by side (still exact).
   * @default 65536
   */
  maxGroupBytes?: number;
  /** Expected seconds per processor id; missing ids get the mean of the given hints, or 1 when there are none. */
  hints?: Record<string, number>;
}

export interface UnitDag {
  units: ScheduleUnit[];
  dag: IndexedDag;
}

/**
 * Builds the DAG the scheduler sees. Grouping twins is exact: they share every predecessor and every
 * successor, so running them as one parallel block adds no ordering. Units keep the plan's
 * topological order (a unit sits where its first member is).
 */
export function buildUnitDag(processors: ResolvedProcessor[], options: UnitsOptions): UnitDag {
  const keyOf = (p: ResolvedProcessor) => JSON.stringify([[...p.dependsOn].sort(), [...p.dependants].sort(), options.renderKey(p)]);
  const byKey = new Map<string, ResolvedProcessor[]>();
  for (const p of processors) {
    const key = keyOf(p);
    const list = byKey.get(key);
    if (list) list.push(p);
    else byKey.set(key, [p]);
  }
  const units: ScheduleUnit[] = [];
  const unitOf = new Map<string, number>();
  const seen = new Set<string>();
  for (const p of processors) {
    const key = keyOf(p);
    const twins = byKey.get(key)!;
    if (twins.length >= options.minGroupSize && twins.length > 1) {
      if (seen.has(key)) continue;
      seen.add(key);
      for (const chunk of byteChunks(twins, options.maxGroupBytes ?? 65_536)) {
        for (const t of chunk) unitOf.set(t.id, units.length);
        units.push({ members: chunk });
      }
    } else {
      unitOf.set(p.id, units.length);
      units.push({ members: [p] });
    }
  }
  const given = Object.values(options.hints ?? {}).filter((v) => Number.isFinite(v) && v >= 0);
  const fallback = given.length ? given.reduce((a, b) => a + b, 0) / given.length : 1;
  const weightOf = (id: string) => {
    const h = options.hints?.[id];
    return h !== undefined && Number.isFinite(h) && h >= 0 ? h : fallback;
  };
  const preds = units.map((u) => [...new Set(u.members[0].dependsOn.map((d) => unitOf.get(d)!))].sort((a, b) => a - b));
  const weights = units.map((u) => u.members.reduce((max, p) => Math.max(max, weightOf(p.id)), 0));
  return { units, dag: { preds, weights } };
}

function byteChunks(members: ResolvedProcessor[], maxBytes: number): ResolvedProcessor[][] {
  const chunks: ResolvedProcessor[][] = [];
  let current: ResolvedProcessor[] = [];
  let bytes = 0;
  for (const p of members) {
    const size = Buffer.byteLength(JSON.stringify({ id: p.id, h: p.hash })) + 1;
    if (current.length && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
