import { expect } from "chai";
import { compileWorkflow, readMarkers } from "../../lib/compile";
import { planOf } from "./helpers";

describe("readMarkers", () => {
  const deps = { split: [], w0: ["split"], w1: ["split"], w2: ["split"], w3: ["split"], join: ["w0", "w1", "w2", "w3"] };
  const plan = planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/w:1" : `registry.example/${id}:1`) });

  it("classifies every Task and Map by contract, not by name, and attributes helpers to their processor", () => {
    const markers = [...readMarkers(compileWorkflow(plan).definition).values()];
    const of = (kind: string) => markers.filter((m) => m.kind === kind).map((m) => m.processorIds);
    expect(of("map")).to.deep.equal([["w0", "w1", "w2", "w3"]]);
    // The run states: split and join by Comment, the Map's inner one with the Map's ids.
    expect(of("processor")).to.deep.equal([["split"], ["w0", "w1", "w2", "w3"], ["join"]]);
    expect(of("resolve-token")).to.deep.equal([["split"], ["w0", "w1", "w2", "w3"], ["join"]]);
    expect(of("merge")).to.deep.equal([["join"]]);
    expect(of("download")).to.have.length(1);
    expect(of("cleanup")).to.have.length(1);
    expect(of("finalize")).to.have.length(2);
  });

  it("names the child machine each start state runs", () => {
    const compiled = compileWorkflow(plan, { limits: { historyEvents: 120 } });
    const starts = [...readMarkers(compiled.definition).values(), ...Object.values(compiled.children).flatMap((c) => [...readMarkers(c).values()])].filter((m) => m.kind === "child");
    expect(starts.map((m) => m.child).sort()).to.deep.equal(Object.keys(compiled.children).sort());
  });
});
