import { expect } from "chai";
import { seriesParallelDecomposition } from "../../lib/plan/series-parallel";
import { levelBarrierStructure } from "../../lib/plan/level-barrier";
import { IndexedDag, Structure, criticalPath, structureMakespan, structureNodes } from "../../lib/plan/structure";
import { scheduleDag } from "../../lib/plan/schedule";
import { prng } from "../compile/helpers";

/** For every node, the nodes a structure finishes before it starts. */
function finishedBefore(s: Structure, n: number): Set<number>[] {
  const before: Set<number>[] = Array.from({ length: n }, () => new Set());
  const walk = (s: Structure, done: Set<number>): Set<number> => {
    switch (s.kind) {
      case "node":
        before[s.node] = new Set(done);
        return new Set([...done, s.node]);
      case "series":
        return s.items.reduce((acc, item) => walk(item, acc), done);
      case "parallel": {
        const out = new Set(done);
        for (const item of s.items) for (const v of walk(item, done)) out.add(v);
        return out;
      }
    }
  };
  walk(s, new Set());
  return before;
}

function ancestorsOf(dag: IndexedDag): Set<number>[] {
  const anc: Set<number>[] = [];
  dag.preds.forEach((preds, v) => {
    anc[v] = new Set();
    for (const p of preds) {
      anc[v].add(p);
      for (const a of anc[p]) anc[v].add(a);
    }
  });
  return anc;
}

function expectValidSchedule(dag: IndexedDag, s: Structure) {
  const nodes = structureNodes(s).sort((a, b) => a - b);
  expect(nodes).to.deep.equal(dag.preds.map((_, i) => i));
  const before = finishedBefore(s, dag.preds.length);
  dag.preds.forEach((preds, v) => preds.forEach((p) => expect(before[v].has(p), `${p} before ${v}`).to.equal(true)));
}

function randomDag(random: () => number, n: number, density: number): IndexedDag {
  const preds = Array.from({ length: n }, (_, v) => Array.from({ length: v }, (_, p) => p).filter((p) => v - p <= 10 && random() < density));
  return { preds, weights: preds.map(() => Math.round(random() * 100)) };
}

describe("seriesParallelDecomposition", () => {
  it("keeps a diamond exact: the two middle nodes in parallel between the ends", () => {
    const dag = { preds: [[], [0], [0], [1, 2]], weights: [1, 1, 1, 1] };
    const { structure, approximateCuts } = seriesParallelDecomposition(dag);
    expect(approximateCuts).to.equal(0);
    expect(structure).to.deep.equal({ kind: "series", items: [{ kind: "node", node: 0 }, { kind: "parallel", items: [{ kind: "node", node: 1 }, { kind: "node", node: 2 }] }, { kind: "node", node: 3 }] });
  });

  it("ignores transitive edges when recognising a series-parallel DAG", () => {
    const dag = { preds: [[], [0], [0, 1], [0, 2]], weights: [1, 1, 1, 1] };
    const { structure, approximateCuts } = seriesParallelDecomposition(dag);
    expect(approximateCuts).to.equal(0);
    expect(structure.kind).to.equal("series");
    expect((structure as { items: Structure[] }).items).to.have.length(4);
  });

  it("orders an N by the hints: the short parent waits, not the long chain", () => {
    // a(0) and b(1) feed c(2); only b feeds d(3). d is long: making d wait for a would cost the most.
    const dag = { preds: [[], [], [0, 1], [1]], weights: [50, 10, 1, 100] };
    const { structure, approximateCuts } = seriesParallelDecomposition(dag);
    expect(approximateCuts).to.be.greaterThan(0);
    expectValidSchedule(dag, structure);
    expect(structureMakespan(structure, dag.weights)).to.equal(criticalPath(dag));
  });

  it("keeps every dependency and runs every node once on random DAGs", () => {
    const random = prng(11);
    for (let trial = 0; trial < 60; trial++) {
      const dag = randomDag(random, 2 + Math.floor(random() * 60), random() * 0.5);
      const { structure } = seriesParallelDecomposition(dag);
      expectValidSchedule(dag, structure);
    }
  });

  it("adds no ordering to DAGs built by series and parallel composition", () => {
    const random = prng(5);
    for (let trial = 0; trial < 40; trial++) {
      // Compose random two-terminal pieces; nodes are numbered in creation order, which is topological.
      const preds: number[][] = [];
      const build = (size: number, after: number[]): { sources: number[]; sinks: number[] } => {
        if (size <= 1) {
          preds.push([...after]);
          return { sources: [preds.length - 1], sinks: [preds.length - 1] };
        }
        const left = 1 + Math.floor(random() * (size - 1));
        if (random() < 0.5) {
          const a = build(left, after);
          const b = build(size - left, a.sinks);
          return { sources: a.sources, sinks: b.sinks };
        }
        const a = build(left, after);
        const b = build(size - left, after);
        return { sources: [...a.sources, ...b.sources], sinks: [...a.sinks, ...b.sinks] };
      };
      build(2 + Math.floor(random() * 50), []);
      const dag = { preds, weights: preds.map(() => 1 + Math.floor(random() * 9)) };
      const { structure, approximateCuts } = seriesParallelDecomposition(dag);
      expect(approximateCuts).to.equal(0);
      const before = finishedBefore(structure, preds.length);
      const anc = ancestorsOf(dag);
      preds.forEach((_, v) => expect([...before[v]].sort((a, b) => a - b)).to.deep.equal([...anc[v]].sort((a, b) => a - b)));
      expect(structureMakespan(structure, dag.weights)).to.equal(criticalPath(dag));
    }
  });

  it("is deterministic", () => {
    const dag = randomDag(prng(9), 80, 0.3);
    expect(JSON.stringify(seriesParallelDecomposition(dag))).to.equal(JSON.stringify(seriesParallelDecomposition(dag)));
  });
});

describe("scheduleDag", () => {
  it("is never slower than one barrier per level", () => {
    const random = prng(21);
    for (let trial = 0; trial < 40; trial++) {
      const dag = randomDag(random, 5 + Math.floor(random() * 50), 0.1 + random() * 0.4);
      const result = scheduleDag(dag);
      expect(result.makespan).to.be.at.most(structureMakespan(levelBarrierStructure(dag), dag.weights));
      expect(result.makespan).to.be.at.least(result.criticalPath);
      expectValidSchedule(dag, result.structure);
    }
  });
});

describe("levelBarrierStructure", () => {
  it("puts one parallel block per longest-path level", () => {
    const dag = { preds: [[], [], [0], [2], [1]], weights: [1, 1, 1, 1, 1] };
    const s = levelBarrierStructure(dag);
    expect(s).to.deep.equal({
      kind: "series",
      items: [
        { kind: "parallel", items: [{ kind: "node", node: 0 }, { kind: "node", node: 1 }] },
        { kind: "parallel", items: [{ kind: "node", node: 2 }, { kind: "node", node: 4 }] },
        { kind: "node", node: 3 },
      ],
    });
  });
});
