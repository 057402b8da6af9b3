import { expect } from "chai";
import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompileOptions, compileWorkflow, hintsFromRecords } from "../../lib/compile";
import { CostReport, priceTableFor } from "../../lib/cost";
import { estimateExecutionCost, walkMachine } from "../../lib/cost/estimate";
import { resolvePlan, ResolvedPlan } from "../../lib/plan/resolve";
import { localCompiler } from "../../lib/runtime/local/compile-local";
import { runLocalWorkflow } from "../../lib/runtime/local/runner";

type Spec = { id: string; dependsOn?: string[]; computeType?: "ecs" | "lambda"; image?: string };

function planOf(name: string, specs: Spec[]): ResolvedPlan {
  // A file named after the processor's own output dir, so merged inputs never collide.
  const touch = [process.execPath, "-e", `const p = require("path"); require("fs").writeFileSync(p.join(process.env.OUTPUT_DIR, p.basename(process.env.OUTPUT_DIR) + ".txt"), "x")`];
  return resolvePlan(
    { name, processors: specs.map((p) => ({ id: p.id, sourceUrl: p.image ?? `local/${p.id}`, dependsOn: p.dependsOn ?? [] })) },
    { processors: [...new Map(specs.map((p) => [p.image ?? `local/${p.id}`, { sourceUrl: p.image ?? `local/${p.id}`, computeTypes: [p.computeType ?? "ecs"], localCommand: touch }])).values()] },
  );
}

async function runAndEstimate(plan: ResolvedPlan, compile: Omit<CompileOptions, "target" | "hints">): Promise<{ run: CostReport; estimate: CostReport }> {
  const root = await mkdtemp(join(tmpdir(), "cn-estimate-"));
  await mkdir(join(root, "input"));
  await writeFile(join(root, "input", "in.txt"), "in");
  const record = await runLocalWorkflow({ plan, inputDir: join(root, "input"), workdir: join(root, "work"), compile: localCompiler(compile), executionId: "wi-est" });
  expect(record.status, JSON.stringify(record.error)).to.equal("SUCCEEDED");
  const run = JSON.parse(await readFile(record.artifacts!.costReport, "utf8")) as CostReport;
  // The hints are the run's own durations: the estimate of a run that goes exactly as hinted.
  const hints = hintsFromRecords([record]);
  const compiled = compileWorkflow(plan, { ...compile, hints });
  const estimate = estimateExecutionCost({ plan, compiled, hints, prices: priceTableFor("us-east-1"), generatedAt: run.generatedAt });
  return { run, estimate };
}

/** What the hints and the compiled machine decide: everything but the assumed durations of the node's own Lambdas and the log volume. */
function decidedByHints(report: CostReport) {
  const assumed = /function duration$|^CloudWatch Logs/;
  return {
    processors: report.processors.map(({ processorId, computeType, attempts, retries, durationSeconds, billedSeconds, usd }) => ({ processorId, computeType, attempts, retries, durationSeconds, billedSeconds, usd })),
    lines: report.lines.filter((l) => !assumed.test(l.item)),
  };
}

describe("estimateExecutionCost", function () {
  this.timeout(60000);

  it("counts each state of a chain's success path once, from Check inputs to Succeeded", () => {
    const plan = planOf("chain", [{ id: "a" }, { id: "b", dependsOn: ["a"] }]);
    const walk = walkMachine(compileWorkflow(plan).definition);
    // Check inputs, Initialize, DownloadInputs, Body, Env file a, Run a, Env file b, Run b, Check outputs (none: no upload), Cleanup, Check outcome, Finalize succeeded, Succeeded.
    expect(walk.stateTransitions).to.equal(13);
    // ECS processors get their tokens from the node's tokens function (an environment file), not ResolveToken.
    expect(walk.invocations).to.deep.include({ download: 1, tokens: 2, processor: 2, cleanup: 1, finalize: 1 });
  });

  it("equals the report of a local run whose durations match the hints: a diamond with a Lambda and a merge", async () => {
    const plan = planOf("est-diamond", [{ id: "a" }, { id: "b", dependsOn: ["a"], computeType: "lambda" }, { id: "c", dependsOn: ["a"] }, { id: "d", dependsOn: ["b", "c"] }]);
    const { run, estimate } = await runAndEstimate(plan, { structure: "series-parallel" });
    expect(decidedByHints(estimate)).to.deep.equal(decidedByHints(run));
    expect(estimate.lines.find((l) => l.item === "Step Functions state transitions")!.quantity).to.be.greaterThan(12);
    expect(estimate).to.deep.include({ source: "estimate", nominal: true, region: "us-east-1" });
    expect(estimate.makespanSeconds).to.be.a("number");
  });

  it("equals the report of a local run in exact mode, where every unit is a Distributed Map iteration with joins", async () => {
    const plan = planOf("est-exact", [{ id: "a" }, { id: "b" }, { id: "c", dependsOn: ["a", "b"] }, { id: "d", dependsOn: ["b"] }]);
    const { run, estimate } = await runAndEstimate(plan, { structure: "exact" });
    expect(decidedByHints(estimate)).to.deep.equal(decidedByHints(run));
    expect(estimate.lines.find((l) => l.item === "join function requests")!.quantity).to.be.greaterThan(0);
  });

  it("equals the report of a local run whose twins run as one Map", async () => {
    const twins = ["t1", "t2", "t3", "t4", "t5"].map((id) => ({ id, dependsOn: ["root"], image: "local/twin" }));
    const plan = planOf("est-twins", [{ id: "root" }, ...twins, { id: "sink", dependsOn: twins.map((t) => t.id) }]);
    const { run, estimate } = await runAndEstimate(plan, {});
    expect(decidedByHints(estimate)).to.deep.equal(decidedByHints(run));
  });

  it("lists a processor without a hint as missing instead of guessing its runtime", () => {
    const plan = planOf("partial", [{ id: "a" }, { id: "b", dependsOn: ["a"] }]);
    const hints = { a: 120 };
    const report = estimateExecutionCost({ plan, compiled: compileWorkflow(plan, { hints }), hints, prices: priceTableFor("us-east-1"), generatedAt: "2026-12-02T00:00:00.000Z" });
    expect(report.missing.map((m) => m.item)).to.include('processor "b"');
    expect(report.processors.find((p) => p.processorId === "a")).to.include({ billedSeconds: 120 });
    expect(report.processors.find((p) => p.processorId === "b")).to.include({ attempts: 0, usd: 0 });
    expect(report.makespanSeconds).to.equal(undefined);
  });
});
