import { levelBarrierStructure } from "./level-barrier";
import { seriesParallelDecomposition } from "./series-parallel";
import { IndexedDag, Structure, criticalPath, structureMakespan } from "./structure";

export type ScheduleStrategy = "series-parallel" | "level-barrier";

/** `auto` keeps the series-parallel structure unless one barrier per level is faster; the others force one. */
export type ScheduleMode = "auto" | ScheduleStrategy;

export interface ScheduleOptions {
  /** @default "auto" */
  mode?: ScheduleMode;
  /** Multiplies the search budget of the decomposition. @default 1 */
  effort?: number;
}

export interface ScheduleResult {
  structure: Structure;
  strategy: ScheduleStrategy;
  /** True when the DAG is series-parallel and the structure adds no ordering at all. */
  exact: boolean;
  /** Makespan of the structure under the weights, with unlimited parallelism. */
  makespan: number;
  criticalPath: number;
  /** Makespan of one barrier per topological level, for comparison. */
  levelBarrierMakespan: number;
}

/** The best series-parallel structure found; in `auto` mode never worse than one barrier per level. */
export function scheduleDag(dag: IndexedDag, options: ScheduleOptions = {}): ScheduleResult {
  const mode = options.mode ?? "auto";
  const level = levelBarrierStructure(dag);
  const levelSpan = structureMakespan(level, dag.weights);
  const cp = criticalPath(dag);
  const base = { criticalPath: cp, levelBarrierMakespan: levelSpan };
  if (mode !== "level-barrier") {
    const sp = seriesParallelDecomposition(dag, { effort: options.effort });
    const spSpan = structureMakespan(sp.structure, dag.weights);
    if (mode === "series-parallel" || spSpan <= levelSpan)
      return { ...base, structure: sp.structure, strategy: "series-parallel", exact: sp.approximateCuts === 0, makespan: spSpan };
  }
  return { ...base, structure: level, strategy: "level-barrier", exact: false, makespan: levelSpan };
}
