import { BenchDag, BenchTask } from "./dags";

/** mulberry32: seeded, so the synthetic set is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const lognormal = (random: () => number, median: number, sigma: number) => {
  const u = Math.max(1e-12, random());
  const v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
};

/**
 * nf-core-like pipeline: per-sample chains, shared reference steps feeding some stage of every
 * sample, QC aggregations over subsets of stages, and joint steps whose output flows back into
 * per-sample chains (the "N" shapes nested Parallel states cannot express).
 */
export function pipelineDag(random: () => number, name: string): BenchDag {
  const tasks: BenchTask[] = [];
  const add = (id: string, parents: string[], category: string, median: number) => {
    tasks.push({ id, parents: [...new Set(parents)], category, runtime_s: Math.round(lognormal(random, median, 1) * 10) / 10 });
    return id;
  };
  const samples = 2 + Math.floor(random() * 10);
  const stages = 3 + Math.floor(random() * 6);
  const stageMedian = Array.from({ length: stages }, () => 20 + random() * 300);
  const refs = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, r) => add(`ref_${r}`, [], `ref${r}`, 60 + random() * 600));
  const refStage = refs.map(() => Math.floor(random() * stages));
  const chains: string[][] = [];
  let joint: string | undefined;
  const jointStage = random() < 0.6 ? 1 + Math.floor(random() * (stages - 1)) : -1;
  for (let st = 0; st < stages; st++) {
    if (st === jointStage) {
      joint = add(`joint_${st}`, chains.map((c) => c[st - 1]), `joint${st}`, stageMedian[st] * 2);
    }
    for (let s = 0; s < samples; s++) {
      const chain = (chains[s] ??= []);
      const parents = st > 0 ? [chain[st - 1]] : [];
      refs.forEach((r, i) => refStage[i] === st && parents.push(r));
      if (joint && st === jointStage) parents.push(joint);
      if (st > 1 && random() < 0.15) parents.push(chain[st - 2]);
      chain.push(add(`s${s}_stage${st}`, parents, `stage${st}`, stageMedian[st]));
    }
  }
  const qcs = 1 + Math.floor(random() * 3);
  for (let q = 0; q < qcs; q++) {
    const picked = chains.flatMap((c) => c.filter(() => random() < 0.3));
    if (picked.length) add(`qc_${q}`, picked, `qc${q}`, 30);
  }
  add("report", [...chains.map((c) => c[c.length - 1]), ...tasks.filter((t) => t.id.startsWith("qc_")).map((t) => t.id)], "report", 20);
  return { name, family: "synthetic-pipeline", tasks };
}

/** Layered scientific workflow: each task draws parents from the previous one or two layers. */
export function layeredDag(random: () => number, name: string): BenchDag {
  const tasks: BenchTask[] = [];
  const layers: string[][] = [];
  const depth = 3 + Math.floor(random() * 6);
  for (let l = 0; l < depth; l++) {
    const width = 1 + Math.floor(random() * 25);
    const median = 5 + random() * 200;
    const layer: string[] = [];
    for (let i = 0; i < width; i++) {
      const id = `L${l}_${i}`;
      const parents: string[] = [];
      if (l > 0) {
        const prev = layers[l - 1];
        const fanIn = 1 + Math.floor(random() * Math.min(4, prev.length));
        for (let k = 0; k < fanIn; k++) parents.push(prev[Math.floor(random() * prev.length)]);
        if (l > 1 && random() < 0.2) parents.push(layers[l - 2][Math.floor(random() * layers[l - 2].length)]);
      }
      tasks.push({ id, parents: [...new Set(parents)], category: `layer${l}`, runtime_s: Math.round(lognormal(random, median, 0.8) * 10) / 10 });
      layer.push(id);
    }
    layers.push(layer);
  }
  return { name, family: "synthetic-layered", tasks };
}

/** The same graph with each runtime scaled by a random factor: does the schedule follow the hints? */
export function perturbed(random: () => number, dag: BenchDag, name: string): BenchDag {
  return { name, family: `${dag.family ?? dag.name}-perturbed`, tasks: dag.tasks.map((t) => ({ ...t, runtime_s: Math.round(t.runtime_s * lognormal(random, 1, 0.7) * 100) / 100 })) };
}
