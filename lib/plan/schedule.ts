import { levelBarrierStructure } from "./level-barrier";
import { seriesParallelSchedule } from "./series-parallel";
import { IndexedDag, Structure, criticalPath, structureMakespan } from "./structure";

export type ScheduleStrategy = "series-parallel" | "level-barrier";

export interface ScheduleResult {
  structure: Structure;
  strategy: ScheduleStrategy;
  /** Makespan of the structure under the weights, with unlimited parallelism. */
  makespan: number;
  criticalPath: number;
  /** Makespan of one barrier per topological level, for comparison. */
  levelBarrierMakespan: number;
}

/** The best series-parallel structure found; never worse than one barrier per level. */
export function scheduleDag(dag: IndexedDag): ScheduleResult {
  const sp = seriesParallelSchedule(dag);
  const level = levelBarrierStructure(dag);
  const spSpan = structureMakespan(sp, dag.weights);
  const levelSpan = structureMakespan(level, dag.weights);
  const cp = criticalPath(dag);
  if (levelSpan < spSpan) return { structure: level, strategy: "level-barrier", makespan: levelSpan, criticalPath: cp, levelBarrierMakespan: levelSpan };
  return { structure: sp, strategy: "series-parallel", makespan: spSpan, criticalPath: cp, levelBarrierMakespan: levelSpan };
}
