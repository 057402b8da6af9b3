import { IndexedDag, Structure, parallelOf, seriesOf } from "./structure";

/** One Parallel barrier per topological level (longest distance from a source): Kedro's schedule, the baseline we must never lose to. */
export function levelBarrierStructure(dag: IndexedDag): Structure {
  const level = new Int32Array(dag.preds.length);
  const levels: number[][] = [];
  dag.preds.forEach((preds, v) => {
    let l = 0;
    for (const p of preds) if (level[p] + 1 > l) l = level[p] + 1;
    level[v] = l;
    (levels[l] ??= []).push(v);
  });
  return seriesOf(levels.map((nodes) => parallelOf(nodes.map((node) => ({ kind: "node" as const, node })))));
}
