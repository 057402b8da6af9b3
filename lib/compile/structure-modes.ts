import type { ScheduleMode } from "../plan/schedule";

/** How the DAG becomes states: nested Parallel states (series-parallel, level-barrier) or exact joins. */
export type StructureMode = ScheduleMode | "exact";

/** Dependency-free, so the CLI can list the choices in `--help` without loading the compiler. */
export const STRUCTURE_MODES: readonly StructureMode[] = ["auto", "series-parallel", "level-barrier", "exact"];
