import { expect } from "chai";
import { buildUnitDag } from "../../lib/plan/units";
import { planOf } from "../compile/helpers";

describe("buildUnitDag", () => {
  const plan = planOf({ split: [], w1: ["split"], w2: ["split"], w3: ["split"], odd: ["split"], join: ["w1", "w2", "w3", "odd"] }, { image: (id) => (id.startsWith("w") ? "registry.example/w:1" : `registry.example/${id}:1`) });

  it("groups twins with the same dependencies, dependants and render key, keeping topological order", () => {
    const { units, dag } = buildUnitDag(plan.processors, { minGroupSize: 2, renderKey: (p) => p.image });
    expect(units.map((u) => u.members.map((p) => p.id))).to.deep.equal([["split"], ["w1", "w2", "w3"], ["odd"], ["join"]]);
    expect(dag.preds).to.deep.equal([[], [0], [0], [1, 2]]);
  });

  it("keeps twins apart below the minimum group size or with a different render key", () => {
    expect(buildUnitDag(plan.processors, { minGroupSize: 4, renderKey: (p) => p.image }).units).to.have.length(6);
    expect(buildUnitDag(plan.processors, { minGroupSize: 2, renderKey: (p) => p.id }).units).to.have.length(6);
  });

  it("weighs a unit by its slowest member and fills missing hints with the mean of the given ones", () => {
    const { dag } = buildUnitDag(plan.processors, { minGroupSize: 2, renderKey: (p) => p.image, hints: { w1: 10, w2: 30, split: 2 } });
    expect(dag.weights).to.deep.equal([2, 30, 14, 14]);
  });
});

describe("buildUnitDag with many long-named twins", () => {
  it("splits a group whose item list would crowd the state payload into side-by-side groups", () => {
    const deps: Record<string, string[]> = { split: [] };
    for (let i = 0; i < 30; i++) deps[`${"w".repeat(200)}${i}`] = ["split"];
    const plan = planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/w:1" : "registry.example/split:1") });
    const { units, dag } = buildUnitDag(plan.processors, { minGroupSize: 2, renderKey: (p) => p.image, maxGroupBytes: 2000 });
    const groups = units.filter((u) => u.members.length > 1);
    expect(groups.length).to.be.greaterThan(1);
    expect(groups.reduce((n, u) => n + u.members.length, 0)).to.equal(30);
    for (const [i, u] of units.entries()) if (u.members.length > 1) expect(dag.preds[i]).to.deep.equal([0]);
  });
});
