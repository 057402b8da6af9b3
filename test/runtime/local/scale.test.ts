import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { resolvePlan } from "../../../lib/plan/resolve";
import { scratch } from "./helpers";
import { CompileOptions, compileWorkflow } from "../../../lib/compile";
import { CompiledBundle, LocalCompiler, toBundle } from "../../../lib/runtime/local/compile-local";


/** Deterministic pseudo-random numbers (mulberry32), so the generated DAG is the same on every run. */
function random(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * 300 processors: a source; 60 twins (one image, same neighbours) that the compiler turns into a Map,
 * gathered by one join; then levels with random joins of 2–3 upstream processors; and a final fan-in.
 */
function generatedWorkflow(count = 300) {
  const rand = random(42);
  const procs: { id: string; image: string; dependsOn: string[] }[] = [{ id: "p000", image: "local/p000", dependsOn: [] }];
  const twins = Array.from({ length: 60 }, (_, i) => `twin${String(i).padStart(2, "0")}`);
  for (const id of twins) procs.push({ id, image: "local/twin", dependsOn: ["p000"] });
  procs.push({ id: "gather", image: "local/gather", dependsOn: twins });
  const levels: string[][] = [["p000"]];
  const widths = [80, 70, 50, 30, 8];
  let n = 1;
  for (const width of widths) {
    const prev = levels[levels.length - 1];
    const level: string[] = [];
    for (let i = 0; i < width && procs.length < count - 1; i++, n++) {
      const id = `p${String(n).padStart(3, "0")}`;
      const k = prev.length === 1 ? 1 : rand() < 0.6 ? 1 : rand() < 0.7 ? 2 : 3;
      const deps = new Set<string>();
      while (deps.size < Math.min(k, prev.length)) deps.add(prev[Math.floor(rand() * prev.length)]);
      procs.push({ id, image: `local/${id}`, dependsOn: [...deps] });
      level.push(id);
    }
    levels.push(level);
  }
  procs.push({ id: "sink", image: "local/sink", dependsOn: [...levels[levels.length - 1], "gather"] });
  return procs;
}

describe("runLocalWorkflow on a compiled 300-processor workflow", function () {
  this.timeout(60000);

  it("runs every processor exactly once, each after all of its dependencies, through Maps and child machines", async () => {
    // A small history budget makes the compiler split the work into child machines.
    const bundle = await runGenerated({ structure: "series-parallel", limits: { historyEvents: 3000 } });
    const text = JSON.stringify([bundle.definition, [...bundle.children.values()]]);
    expect(bundle.children.size, "child machines").to.be.greaterThan(0);
    expect(text.match(/"Type":"Map"/g)?.length ?? 0, "Map states").to.be.greaterThan(0);
  });

  it("runs every processor exactly once, each after all of its dependencies, in exact mode split over child machines", async () => {
    // A small definition budget splits the exact Map into parts whose units join across machines.
    const bundle = await runGenerated({ structure: "exact", limits: { definitionBytes: 150_000 } });
    expect(bundle.children.size, "child machines").to.be.greaterThan(1);
    const text = JSON.stringify([bundle.definition, [...bundle.children.values()]]);
    expect(text.match(/"Comment":"exact:/g)?.length ?? 0, "exact Maps").to.equal(bundle.children.size);
  });
});

async function runGenerated(options: Omit<CompileOptions, "target">): Promise<CompiledBundle> {
  const { input, workdir, root } = await scratch({ "seed.txt": "x" });
  const procs = generatedWorkflow();
  expect(procs).to.have.length(300);
  const runLog = join(root, "ran.log");
  // Twins share one registration and so one command: a processor knows itself only by its OUTPUT_DIR.
  // The log's path is in the command: processors get none of the runner's environment.
  const script = `h=$(basename "$OUTPUT_DIR"); echo "$h" >> '${runLog}'; ls "$INPUT_DIR" > "$OUTPUT_DIR/seen-$h.txt"; echo "$h" > "$OUTPUT_DIR/$h.out"`;
  const images = [...new Set(procs.map((p) => p.image))];
  const plan = resolvePlan(
    { name: "generated-300", processors: procs.map((p) => ({ id: p.id, sourceUrl: p.image, dependsOn: p.dependsOn })) },
    { processors: images.map((image) => ({ sourceUrl: image, localCommand: ["/bin/sh", "-c", script] })) },
  );
  let bundle: CompiledBundle | undefined;
  const compile: LocalCompiler = (p, target) => (bundle = toBundle("generated", compileWorkflow(p, { ...options, target })));
  const record = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-300", compile });
  expect(record.status, JSON.stringify(record.error)).to.equal("SUCCEEDED");

  const idOfHash = new Map(plan.processors.map((p) => [p.hash, p.id]));
  const ran = (await readFile(runLog, "utf8")).trim().split("\n").map((h) => idOfHash.get(h));
  expect(ran.sort()).to.deep.equal(procs.map((p) => p.id).sort());

  const outputs = join(workdir, "efs", "local", "workdir", "wi-300");
  const hashOf = new Map(plan.processors.map((p) => [p.id, p.hash]));
  for (const p of plan.processors) {
    const state = record.processors[p.id];
    expect(state.status).to.equal("SUCCEEDED");
    expect(state.attempts).to.equal(1);
    for (const d of p.dependsOn) expect(Date.parse(state.startedAt!), `${p.id} after ${d}`).to.be.at.least(Date.parse(record.processors[d].finishedAt!));
    const seen = (await readFile(join(outputs, p.hash, `seen-${p.hash}.txt`), "utf8")).split("\n");
    for (const d of p.dependsOn) expect(seen, `${p.id} saw ${d}'s output`).to.include(`${hashOf.get(d)}.out`);
  }
  return bundle!;
}
