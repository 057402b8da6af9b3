import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export interface BenchTask {
  id: string;
  runtime_s: number;
  parents: string[];
  category?: string;
}

export interface BenchDag {
  name: string;
  family?: string;
  tasks: BenchTask[];
}

export function loadBenchDags(dir: string): BenchDag[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as BenchDag);
}

/** task id → processor id, parents → dependsOn, one image per task category. */
export function benchWorkflow(dag: BenchDag) {
  const image = (t: BenchTask) => `registry.example/bench/${(t.category ?? "task").toLowerCase().replace(/[^a-z0-9._-]+/g, "-")}:1`;
  return {
    workflow: { name: dag.name, processors: dag.tasks.map((t) => ({ id: t.id, sourceUrl: image(t), dependsOn: t.parents })) },
    hints: Object.fromEntries(dag.tasks.map((t) => [t.id, t.runtime_s])),
  };
}

/** Heaviest runtime path: the lower bound on any schedule's makespan. */
export function benchCriticalPath(dag: BenchDag): number {
  const finish = new Map<string, number>();
  let best = 0;
  for (const t of dag.tasks) {
    const start = t.parents.reduce((m, p) => Math.max(m, finish.get(p) ?? 0), 0);
    finish.set(t.id, start + t.runtime_s);
    best = Math.max(best, start + t.runtime_s);
  }
  return best;
}
