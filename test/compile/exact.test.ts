import { expect } from "chai";
import { analyzeMachines, compileWorkflow, readMarkers, AslTaskState } from "../../lib/compile";
import { CompileError, ValidationError } from "../../lib/errors";
import { allStates, ancestors, Edges, expectCorrectSchedule, expectValid, machines, planOf, prng, randomDag, randomSeriesParallelDag } from "./helpers";

// "N" with long outer edges: any nested-Parallel order makes c wait for d or d wait for a.
const slowN: Edges = { a: [], b: [], c: ["a", "b"], d: ["b"] };
const slowNHints = { a: 10, b: 1, c: 1, d: 10 };

describe("compileWorkflow in exact mode", () => {
  it("starts every processor of a non-series-parallel DAG exactly when its own dependencies have finished", () => {
    const random = prng(11);
    for (let trial = 0; trial < 25; trial++) {
      const deps = randomDag(random, 5 + Math.floor(random() * 50), 0.05 + random() * 0.4);
      const hints = Object.fromEntries(Object.keys(deps).map((id) => [id, 1 + Math.floor(random() * 100)]));
      const compiled = compileWorkflow(planOf(deps), { hints, structure: "exact" });
      const analysis = expectCorrectSchedule(deps, compiled);
      const anc = ancestors(deps);
      for (const id of Object.keys(deps)) expect([...analysis.before.get(id)!].sort(), id).to.deep.equal([...anc.get(id)!].sort());
      const timed = analyzeMachines(compiled, { durations: hints });
      for (const [id, parents] of Object.entries(deps)) expect(timed.start.get(id), id).to.equal(Math.max(0, ...parents.map((p) => timed.finish.get(p)!)));
      expect(timed.makespan).to.equal(compiled.stats.criticalPath);
    }
  });

  it("takes exact mode in auto when nested Parallel states would wait more than exactAbove allows", () => {
    const compiled = compileWorkflow(planOf(slowN), { hints: slowNHints });
    expect(compiled.stats.strategy).to.equal("exact");
    expect(compiled.stats.nestedParallelMakespan).to.be.greaterThan(compiled.stats.criticalPath * 1.01);
    expect(analyzeMachines(compiled, { durations: slowNHints }).makespan).to.equal(11);
    const tolerant = compileWorkflow(planOf(slowN), { hints: slowNHints, exactAbove: 2 });
    expect(tolerant.stats.strategy).to.equal("series-parallel");
    expect(analyzeMachines(tolerant, { durations: slowNHints }).makespan).to.be.greaterThan(11);
  });

  it("rejects an exactAbove below 1, which would send series-parallel DAGs to exact mode", () => {
    expect(() => compileWorkflow(planOf(slowN), { exactAbove: 0.5 }))
      .to.throw(ValidationError, /exactAbove/)
      .with.nested.property("issues[0].path[0]", "exactAbove");
  });

  it("keeps nested Parallel states in auto when tasks are so short that joins would cost more than the waiting they remove", () => {
    const quick = { a: 1, b: 0.1, c: 0.1, d: 1 };
    const compiled = compileWorkflow(planOf(slowN), { hints: quick });
    expect(compiled.stats.makespan).to.be.greaterThan(compiled.stats.criticalPath * 1.01);
    expect(compiled.stats.strategy).to.equal("series-parallel");
    expect(compileWorkflow(planOf(slowN), { hints: quick, joinOverheadSeconds: 0 }).stats.strategy).to.equal("exact");
  });

  it("keeps nested Parallel states for series-parallel DAGs in auto", () => {
    const random = prng(5);
    for (let trial = 0; trial < 15; trial++) {
      const deps = randomSeriesParallelDag(random, 3 + Math.floor(random() * 40));
      const hints = Object.fromEntries(Object.keys(deps).map((id) => [id, 1 + Math.floor(random() * 100)]));
      expect(compileWorkflow(planOf(deps), { hints }).stats.strategy).to.equal("series-parallel");
    }
  });

  it("never takes exact mode for a node without the join function, and refuses to be forced into it", () => {
    expect(compileWorkflow(planOf(slowN), { hints: slowNHints, exactAvailable: false }).stats.strategy).to.equal("series-parallel");
    expect(() => compileWorkflow(planOf(slowN), { structure: "exact", exactAvailable: false }))
      .to.throw(CompileError, /join function/)
      .with.property("code", "exact_unavailable");
  });

  it("waits on the join function only where a unit has dependencies, and releases only where it has dependants", () => {
    const compiled = compileWorkflow(planOf(slowN), { structure: "exact", target: { joinFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-join" } });
    const markers = [...readMarkers(compiled.definition).values()];
    const waits = markers.filter((m) => m.kind === "join-wait");
    // Units are keyed by their index in the plan's order (a, b, c, d): c waits for a and b, d for b.
    expect(waits.map((m) => [m.unit, m.after, m.processorIds]).sort()).to.deep.equal([["2", ["0", "1"], ["c"]], ["3", ["1"], ["d"]]]);
    const releases = markers.filter((m) => m.kind === "join-release");
    expect(releases.map((m) => m.unit).sort()).to.deep.equal(["0", "1"]);
    for (const [, state] of allStates(compiled.definition))
      if (state.Type === "Task" && (state.Parameters?.Payload as { action?: string } | undefined)?.action?.startsWith("join-"))
        expect((state as AslTaskState).Parameters!.FunctionName).to.equal("arn:aws:lambda:us-east-1:123456789012:function:cn-n1-join");
    const wait = allStates(compiled.definition).find(([, s]) => s.Type === "Task" && s.Resource.endsWith(".waitForTaskToken"))![1] as AslTaskState;
    expect((wait.Parameters!.Payload as Record<string, unknown>)["token.$"]).to.equal("$$.Task.Token");
    expectValid(compiled);
  });

  it("retries the join function's own throttling and failed releases, but never a wait the abort refused", () => {
    const compiled = compileWorkflow(planOf(slowN), { structure: "exact" });
    const joinTasks = allStates(compiled.definition).filter(([, s]) => s.Type === "Task" && String((s.Parameters?.Payload as { action?: string } | undefined)?.action).startsWith("join-")) as [string, AslTaskState][];
    const retried = (s: AslTaskState) => (s.Retry ?? []).flatMap((r) => r.ErrorEquals);
    for (const [, wait] of joinTasks.filter(([, s]) => s.Resource.endsWith(".waitForTaskToken"))) {
      expect(retried(wait)).to.include("ProvisionedThroughputExceededException").and.include("ThrottlingException");
      expect(retried(wait)).to.not.include.members(["States.ALL"]);
      expect(retried(wait)).to.not.include("States.TaskFailed").and.not.include("ComputeNode.JoinAborted");
    }
    const releases = joinTasks.filter(([, s]) => (s.Parameters!.Payload as { action: string }).action === "join-release");
    expect(releases).to.have.length(2);
    for (const [, release] of releases) expect(retried(release)).to.include("States.TaskFailed");
  });

  it("has a failed processor record itself as the instance's first failure, which each part's Map failure then reports", () => {
    const compiled = compileWorkflow(planOf(slowN), { structure: "exact" });
    const states = new Map(allStates(compiled.definition));
    const aborts = [...states].filter(([, s]) => s.Type === "Task" && (s.Parameters?.Payload as { action?: string } | undefined)?.action === "join-abort") as [string, AslTaskState][];
    const [runName, run] = [...states].find(([, s]) => s.Type === "Task" && s.Comment === "processor:a") as [string, AslTaskState];
    const [abortName, ownAbort] = aborts.find(([, s]) => (s.Parameters!.Payload as Record<string, unknown>).failed === 'processor "a"')!;
    expect(run.Catch![0].Next, runName).to.equal(abortName);
    expect(ownAbort.Parameters!.Payload).to.deep.include({ "error.$": "$.tok.Error", cause: 'processor "a" failed' });
    expect(states.get(ownAbort.Next!)).to.deep.include({ Type: "Fail", ErrorPath: "$.tok.Error" });
    const [, partAbort] = aborts.find(([, s]) => s.ResultPath === "$.error")!;
    expect(partAbort.ResultSelector).to.deep.equal({ "Error.$": "$.Payload.error", "Cause.$": "$.Payload.cause" });
    expect(states.get(partAbort.Next!)).to.deep.include({ Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" });
    const map = [...states].find(([, s]) => s.Type === "Map" && s.Comment?.startsWith("exact:"))![1];
    expect(map.Type === "Map" && map.Catch![0].Next).to.equal([...states].find(([, s]) => s === partAbort)![0]);
  });

  it("keeps processor:<id> on every run state and marks the exact Map with its unit keys, not as a Map of processors", () => {
    const deps: Edges = { split: [], ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`w${i}`, ["split"]])), side: ["split"], join: ["w0", "w1", "w2", "w3", "w4", "w5", "side"], tail: ["side"] };
    const compiled = compileWorkflow(planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/worker:1" : `registry.example/${id}:1`) }), { structure: "exact" });
    const exactMaps = allStates(compiled.definition).filter(([, s]) => s.Type === "Map" && s.Comment?.startsWith("exact:"));
    expect(exactMaps).to.have.length(1);
    // One item per unit (split, the six twins as one Map, side, join, tail), keyed by index.
    expect(JSON.parse(exactMaps[0][1].Type === "Map" ? exactMaps[0][1].Comment!.slice("exact:".length) : "[]")).to.deep.equal(["0", "1", "2", "3", "4"]);
    const comments = allStates(compiled.definition).flatMap(([, s]) => ("Comment" in s && s.Comment ? [s.Comment] : []));
    expect(comments.filter((c) => c.startsWith("processor:")).sort()).to.deep.equal(["processor:join", "processor:side", "processor:split", "processor:tail"]);
    expect(comments).to.include('processors:["w0","w1","w2","w3","w4","w5"]');
    expectCorrectSchedule(deps, compiled);
  });

  it("splits a workflow too large for one definition into parts that run together and join across machines", () => {
    const deps = randomDag(prng(9), 120, 0.2);
    const compiled = compileWorkflow(planOf(deps), { structure: "exact", limits: { definitionBytes: 60_000 } });
    const children = Object.keys(compiled.children);
    expect(children.length).to.be.greaterThan(2);
    for (const m of machines(compiled)) expect(Buffer.byteLength(JSON.stringify(m))).to.be.at.most(60_000);
    const starts = [...readMarkers(compiled.definition).values()].filter((m) => m.kind === "child").map((m) => m.child);
    expect(starts.sort()).to.deep.equal([...children].sort());
    const parallels = allStates(compiled.definition).filter(([, s]) => s.Type === "Parallel" && s.Branches.length === children.length);
    expect(parallels, "one Parallel starts every part at once").to.have.length(1);
    const anc = ancestors(deps);
    const analysis = expectCorrectSchedule(deps, compiled);
    for (const id of Object.keys(deps)) expect(analysis.before.get(id)!.size, id).to.equal(anc.get(id)!.size);
    expectValid(compiled);
  });

  it("refuses with a CompileError naming the processor when one unit cannot fit an iteration's history budget", () => {
    expect(() => compileWorkflow(planOf(slowN), { structure: "exact", limits: { historyEvents: 22 } }))
      .to.throw(CompileError, /"c"/)
      .with.property("code", "limit_exceeded");
  });

  it("compiles the same plan to byte-identical machines", () => {
    const deps = randomDag(prng(2), 40, 0.3);
    const a = compileWorkflow(planOf(deps), { structure: "exact", limits: { definitionBytes: 40_000 } });
    const b = compileWorkflow(planOf(deps), { structure: "exact", limits: { definitionBytes: 40_000 } });
    expect(JSON.stringify([a.definition, a.children])).to.equal(JSON.stringify([b.definition, b.children]));
  });
});
