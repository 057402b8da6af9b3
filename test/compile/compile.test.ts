import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeMachines, compileWorkflow, readMarkers, AslGraph } from "../../lib/compile";
import { CompileError } from "../../lib/errors";
import { allStates, ancestors, Edges, expectCorrectSchedule, expectValid, machines, planOf, prng, randomDag, randomSeriesParallelDag } from "./helpers";

const diamond: Edges = { a: [], b: ["a"], c: ["a"], d: ["b", "c"] };
// "N": a and b share child c, only b feeds d. Not series-parallel.
const nShape: Edges = { a: [], b: [], c: ["a", "b"], d: ["b"] };

describe("compileWorkflow", () => {
  it("wraps the DAG in Initialize, DownloadInputs, a caught Body, Cleanup and Finalize", () => {
    const { definition } = compileWorkflow(planOf(diamond));
    const kinds = [...readMarkers(definition).values()].map((m) => m.kind);
    expect(kinds.filter((k) => k === "download")).to.have.length(1);
    expect(kinds.filter((k) => k === "cleanup")).to.have.length(1);
    expect(kinds.filter((k) => k === "finalize")).to.have.length(2);
    const body = Object.values(definition.States).find((s) => s.Type === "Parallel");
    expect(body && body.Type === "Parallel" && body.Catch?.[0].ErrorEquals).to.deep.equal(["States.ALL"]);
  });

  it("uploads the sink processors' outputs after a successful body, only when the execution input names outputs, and before Cleanup", () => {
    // b and d are sinks: nothing depends on them.
    const { definition } = compileWorkflow(planOf({ a: [], b: ["a"], c: ["a"], d: ["c"] }));
    const upload = Object.entries(definition.States).find(([name]) => readMarkers(definition).get(name)?.kind === "upload");
    expect(upload, "an upload state").to.not.equal(undefined);
    const [uploadName, uploadState] = upload!;
    const payload = (uploadState as unknown as { Parameters: { Payload: Record<string, unknown> } }).Parameters.Payload;
    expect((payload.sources as { processorId: string }[]).map((s) => s.processorId)).to.deep.equal(["b", "d"]);
    expect(payload["destination.$"]).to.equal("$.outputs");
    const body = Object.entries(definition.States).find(([, s]) => s.Type === "Parallel")!;
    const check = definition.States[(body[1] as { Next: string }).Next] as { Type: string; Choices: { Variable: string; IsPresent: boolean; Next: string }[]; Default: string };
    expect(check.Type).to.equal("Choice");
    expect(check.Choices).to.deep.equal([{ Variable: "$.outputs", IsPresent: true, Next: uploadName }]);
    const cleanupName = Object.keys(definition.States).find((name) => readMarkers(definition).get(name)?.kind === "cleanup");
    expect(check.Default).to.equal(cleanupName);
    expect((uploadState as { Next: string }).Next).to.equal(cleanupName);
    // A failed upload fails the run: it is caught into $.error, which leads to "Finalize failed".
    expect((uploadState as { Catch: { ResultPath: string; Next: string }[] }).Catch[0]).to.include({ ResultPath: "$.error", Next: cleanupName });
    // The body's Catch skips the upload.
    expect((body[1] as { Catch: { Next: string }[] }).Catch[0].Next).to.equal(cleanupName);
  });

  it("marks every processor's run state with processor:<id> and no other state", () => {
    const compiled = compileWorkflow(planOf(diamond));
    const comments = allStates(compiled.definition)
      .map(([, s]) => ("Comment" in s ? s.Comment : undefined))
      .filter((c): c is string => !!c && c.startsWith("processor:"));
    expect(comments.sort()).to.deep.equal(["processor:a", "processor:b", "processor:c", "processor:d"]);
  });

  it("starts both middle processors of a diamond together and merges their outputs for the last", () => {
    const compiled = compileWorkflow(planOf(diamond));
    const analysis = expectCorrectSchedule(diamond, compiled);
    expect([...analysis.before.get("b")!]).to.deep.equal(["a"]);
    expect([...analysis.before.get("c")!]).to.deep.equal(["a"]);
    const merges = [...readMarkers(compiled.definition).values()].filter((m) => m.kind === "merge");
    expect(merges.map((m) => m.processorIds)).to.deep.equal([["d"]]);
  });

  it("passes the seed's directories to an ECS processor through container overrides and its tokens through the execution's environment file", () => {
    const compiled = compileWorkflow(planOf(diamond), { target: { computeNodeId: "node-1", efsMountPath: "/mnt/efs" } });
    const plan = planOf(diamond);
    const hash = (id: string) => plan.processors.find((p) => p.id === id)!.hash;
    const run = allStates(compiled.definition).find(([, s]) => "Comment" in s && s.Comment === "processor:d")![1];
    expect(run.Type === "Task" && run.Resource).to.equal("arn:aws:states:::ecs:runTask.sync");
    const container = (run as unknown as { Parameters: { Overrides: { ContainerOverrides: { Environment: Record<string, string>[]; EnvironmentFiles: Record<string, string>[] }[] } } }).Parameters.Overrides.ContainerOverrides[0];
    const env = container.Environment;
    expect(env.map((e) => e.Name)).to.deep.equal(["INPUT_DIR", "OUTPUT_DIR", "WORKFLOW_INSTANCE_ID"]);
    expect(container.EnvironmentFiles).to.deep.equal([{ Type: "s3", "Value.$": "States.Format('arn:aws:s3:::cn-node-1-env/execution-env/node-1/{}.env', $.ctx.workflowInstanceId)" }]);
    const states = allStates(compiled.definition);
    const runName = states.find(([, s]) => s === run)![0];
    const token = states.find(([, s]) => "Next" in s && s.Next === runName)![1] as unknown as { Parameters: Record<string, unknown>; ResultPath: unknown };
    expect(token.Parameters.Payload).to.deep.equal({ action: "env-file", computeNodeId: "node-1", "workflowInstanceId.$": "$.ctx.workflowInstanceId" });
    expect(token.ResultPath).to.equal(null);
    expect(env[0]["Value.$"]).to.equal(`States.Format('{}/m_${hash("d")}', $.ctx.workdir)`);
    expect(env[1]["Value.$"]).to.equal(`States.Format('{}/${hash("d")}', $.ctx.workdir)`);
    const init = compiled.definition.States["Initialize"];
    expect(init.Type === "Pass" && JSON.stringify(init.Parameters)).to.contain("/mnt/efs/node-1/workdir/{}").and.contain("/mnt/efs/node-1/input/{}");
  });

  it("invokes a Lambda processor with the payload fields and overwrites the tokens with its result", () => {
    const plan = planOf({ a: [], b: ["a"] }, { processors: [{ sourceUrl: "registry.example/a:1" }, { sourceUrl: "registry.example/b:1", computeTypes: ["lambda"] }] });
    const compiled = compileWorkflow(plan);
    const [, run] = allStates(compiled.definition).find(([, s]) => "Comment" in s && s.Comment === "processor:b")!;
    if (run.Type !== "Task") throw new Error("not a task");
    expect(run.Resource).to.equal("arn:aws:states:::lambda:invoke");
    expect(Object.keys(run.Parameters!.Payload as object)).to.deep.equal(["inputDir.$", "outputDir.$", "workflowInstanceId.$", "sessionToken.$", "refreshToken.$"]);
    expect(run.ResultSelector).to.deep.equal({ done: true });
  });

  it("retries transient AWS errors with backoff and a processor's own failure only when its registration asks", () => {
    const plan = planOf({ a: [], b: ["a"] }, { processors: [{ sourceUrl: "registry.example/a:1" }, { sourceUrl: "registry.example/b:1", retry: { maxAttempts: 2 } }] });
    const states = allStates(compileWorkflow(plan).definition);
    const run = (id: string) => states.find(([, s]) => "Comment" in s && s.Comment === `processor:${id}`)![1] as { Retry: { ErrorEquals: string[]; MaxAttempts: number; BackoffRate: number }[] };
    expect(run("a").Retry.map((r) => r.ErrorEquals[0])).to.deep.equal(["ECS.AmazonECSException"]);
    expect(run("b").Retry.map((r) => r.ErrorEquals)).to.deep.equal([["ECS.AmazonECSException", "ECS.ServerException", "ECS.ThrottlingException", "ECS.LimitExceededException"], ["States.TaskFailed", "States.Timeout"]]);
    expect(run("b").Retry[1].MaxAttempts).to.equal(2);
    const token = states.find(([, s]) => s.Type === "Task" && (s.Parameters as { Payload?: { action?: string } } | undefined)?.Payload?.action === "env-file")![1] as { Retry: { ErrorEquals: string[]; BackoffRate: number }[] };
    expect(token.Retry[0].ErrorEquals).to.include("Lambda.TooManyRequestsException");
    expect(token.Retry[1].ErrorEquals).to.include("ThrottlingException");
  });

  it("leaves a GPU processor off Fargate, on the cluster's default capacity providers", () => {
    const plan = planOf({ a: [], b: ["a"] }, { processors: [{ sourceUrl: "registry.example/a:1" }, { sourceUrl: "registry.example/b:1", gpu: 1, cpu: 4, memory: 16384 }] });
    const states = allStates(compileWorkflow(plan).definition);
    const params = (id: string) => (states.find(([, s]) => "Comment" in s && s.Comment === `processor:${id}`)![1] as { Parameters: Record<string, unknown> }).Parameters;
    expect(params("a").LaunchType).to.equal("FARGATE");
    expect(params("b")).to.not.have.property("LaunchType");
  });

  it("catches a processor failure into a Fail state that keeps the error name but not the cause", () => {
    const states = allStates(compileWorkflow(planOf({ a: [] })).definition);
    const [, run] = states.find(([, s]) => "Comment" in s && s.Comment === "processor:a")!;
    if (run.Type !== "Task") throw new Error("not a task");
    const fail = states.find(([name]) => name === run.Catch![0].Next)![1];
    // The caught error overwrites the tokens' place, so the Fail state's input holds none.
    expect(fail).to.deep.equal({ Type: "Fail", Cause: 'processor "a" failed', ErrorPath: "$.tok.Error" });
  });

  it("produces valid, deterministic ASL with valid unique state names for long and colliding ids", () => {
    const long = "x".repeat(120);
    const deps: Edges = { [`${long}1`]: [], [`${long}2`]: [`${long}1`], "a b/c": [`${long}1`], "a_b_c": [`${long}1`], [`${long}3`]: [`${long}2`, "a b/c", "a_b_c"] };
    const first = compileWorkflow(planOf(deps));
    const second = compileWorkflow(planOf(deps));
    expect(JSON.stringify(first)).to.equal(JSON.stringify(second));
    expectValid(first);
    const names = allStates(first.definition).map(([n]) => n);
    expect(new Set(names).size).to.equal(names.length);
    for (const n of names) expect(n).to.match(/^[A-Za-z0-9 _.:-]{1,80}$/);
    expectCorrectSchedule(deps, first);
  });

  it("compiles a series-parallel DAG with no added ordering", () => {
    const deps: Edges = { a: [], b: ["a"], c: ["a"], d: ["c"], e: ["c"], f: ["d", "e"], g: ["b", "f"], h: [] };
    const analysis = expectCorrectSchedule(deps, compileWorkflow(planOf(deps)));
    const anc = ancestors(deps);
    for (const id of Object.keys(deps)) expect([...analysis.before.get(id)!].sort(), id).to.deep.equal([...anc.get(id)!].sort());
  });

  it("keeps precedence on a non-series-parallel N and adds only the ordering it must", () => {
    const compiled = compileWorkflow(planOf(nShape));
    expect(compiled.stats.exact).to.equal(false);
    expectCorrectSchedule(nShape, compiled);
  });

  it("keeps precedence and runs each processor once on random DAGs", () => {
    const random = prng(42);
    for (let trial = 0; trial < 40; trial++) {
      const deps = randomDag(random, 5 + Math.floor(random() * 40), 0.05 + random() * 0.4);
      const hints = Object.fromEntries(Object.keys(deps).map((id) => [id, Math.floor(random() * 100)]));
      const compiled = compileWorkflow(planOf(deps), { hints, scheduleEffort: 0.2 });
      expectCorrectSchedule(deps, compiled);
      expect(compiled.stats.makespan).to.be.at.most(compiled.stats.levelBarrierMakespan);
    }
  });

  it("adds no ordering on random series-parallel DAGs", () => {
    const random = prng(7);
    for (let trial = 0; trial < 30; trial++) {
      const deps = randomSeriesParallelDag(random, 3 + Math.floor(random() * 40));
      const compiled = compileWorkflow(planOf(deps));
      expect(compiled.stats.exact, JSON.stringify(deps)).to.equal(true);
      const analysis = expectCorrectSchedule(deps, compiled);
      const anc = ancestors(deps);
      for (const id of Object.keys(deps)) expect(analysis.before.get(id)!.size, id).to.equal(anc.get(id)!.size);
    }
  });

  it("runs twins with the same image, dependencies and dependants as one Map marked with their ids", () => {
    const deps: Edges = { split: [], ...Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`w${i}`, ["split"]])), join: ["w0", "w1", "w2", "w3", "w4", "w5"] };
    const compiled = compileWorkflow(planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/worker:1" : `registry.example/${id}:1`) }));
    const maps = allStates(compiled.definition).filter(([, s]) => s.Type === "Map");
    expect(maps).to.have.length(1);
    expect((maps[0][1] as { Comment: string }).Comment).to.equal('processors:["w0","w1","w2","w3","w4","w5"]');
    const inner = allStates((maps[0][1] as { ItemProcessor: AslGraph }).ItemProcessor);
    expect(inner.some(([, s]) => "Comment" in s && typeof s.Comment === "string" && s.Comment.startsWith("processor"))).to.equal(false);
    expectCorrectSchedule(deps, compiled);
    expectValid(compiled);
  });

  it("uses a Distributed Map for more twins than an inline Map runs at once", () => {
    const deps: Edges = { split: [], ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`w${i}`, ["split"]])) };
    const compiled = compileWorkflow(planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/worker:1" : "registry.example/split:1") }));
    const [, map] = allStates(compiled.definition).find(([, s]) => s.Type === "Map")!;
    expect(map.Type === "Map" && map.ItemProcessor.ProcessorConfig).to.deep.equal({ Mode: "DISTRIBUTED", ExecutionType: "STANDARD" });
    expectValid(compiled);
  });

  it("splits a workflow past the per-machine budget into child machines started with startExecution.sync:2", () => {
    const deps = randomDag(prng(3), 60, 0.2);
    const compiled = compileWorkflow(planOf(deps), { limits: { historyEvents: 300 }, scheduleEffort: 0.2 });
    const childNames = Object.keys(compiled.children);
    expect(childNames.length).to.be.greaterThan(1);
    const starts = [...readMarkers(compiled.definition).values(), ...Object.values(compiled.children).flatMap((c) => [...readMarkers(c).values()])].filter((m) => m.kind === "child");
    expect(starts.map((m) => m.child).sort()).to.deep.equal([...childNames].sort());
    for (const m of machines(compiled)) for (const [, s] of allStates(m)) if ("Comment" in s && s.Comment?.startsWith("child:")) expect(s.Type === "Task" && s.Resource).to.equal("arn:aws:states:::states:startExecution.sync:2");
    expectCorrectSchedule(deps, compiled);
    expectValid(compiled);
  });

  it("refuses with a CompileError when one processor alone cannot fit the budget", () => {
    expect(() => compileWorkflow(planOf({ a: [], b: ["a"] }), { limits: { historyEvents: 5 } }))
      .to.throw(CompileError)
      .with.property("code", "limit_exceeded");
  });

  it("refuses a processor whose merge of thousands of dependencies would exceed the 256 KiB Task input, naming it", () => {
    const deps: Edges = Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`shard-with-a-rather-long-descriptive-identifier-${String(i).padStart(5, "0")}`, []]));
    deps.reduce = Object.keys(deps);
    expect(() => compileWorkflow(planOf(deps, { image: (id) => (id === "reduce" ? "registry.example/reduce:1" : "registry.example/shard:1") }), { scheduleEffort: 0.05 }))
      .to.throw(CompileError, /"reduce"/)
      .with.property("code", "limit_exceeded");
  });

  it("compiles the 2,122-processor Montage benchmark within every Step Functions limit", function () {
    const file = join(__dirname, "..", "..", "..", "shared", "bench", "dags", "montage-chameleon-dss-15d-001.json");
    let dag: { tasks: { id: string; parents: string[]; category: string; runtime_s: number }[] };
    try {
      dag = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      this.skip();
    }
    const deps = Object.fromEntries(dag!.tasks.map((t) => [t.id, t.parents]));
    const category = new Map(dag!.tasks.map((t) => [t.id, t.category]));
    const compiled = compileWorkflow(planOf(deps, { image: (id) => `registry.example/${category.get(id)!.toLowerCase()}:1` }), { hints: Object.fromEntries(dag!.tasks.map((t) => [t.id, t.runtime_s])) });
    for (const m of machines(compiled)) expect(Buffer.byteLength(JSON.stringify(m))).to.be.below(1_048_576);
    expect(compiled.stats.maxMachine.estimatedHistoryEvents).to.be.below(25_000);
    const analysis = analyzeMachines(compiled);
    expect(analysis.runs.size).to.equal(2122);
    expect([...analysis.runs.values()].every((n) => n === 1)).to.equal(true);
  });
});
