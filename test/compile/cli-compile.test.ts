import { expect } from "chai";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "../cli/harness";
import { planOf } from "./helpers";

/** An execution record of `workflow` where each processor ran for the given seconds. */
function recordOf(name: string, seconds: Record<string, number>) {
  const plan = planOf(Object.fromEntries(workflow.processors.map((p) => [p.id, p.dependsOn ?? []])), { name });
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
  return {
    executionId: `wi-${name}`,
    workflowInstanceId: `wi-${name}`,
    backend: "local",
    computeNodeId: "local",
    createdAt: at(0),
    snapshot: { workflow: plan.workflow, processors: plan.registrations, invocation: plan.invocation, mode: plan.mode, resolved: [], definitionHash: "x" },
    status: "SUCCEEDED",
    processors: Object.fromEntries(Object.entries(seconds).map(([id, s]) => [id, { status: "SUCCEEDED", startedAt: at(0), finishedAt: at(s) }])),
  };
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "cn-compile-"));
}

async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(value));
  return file;
}

const workflow = {
  name: "cli-demo",
  processors: [
    { id: "a", sourceUrl: "registry.example/a:1" },
    { id: "b", sourceUrl: "registry.example/b:1", dependsOn: ["a"] },
    { id: "c", sourceUrl: "registry.example/c:1", dependsOn: ["a"] },
    { id: "d", sourceUrl: "registry.example/d:1", dependsOn: ["b", "c"] },
  ],
};

describe("compute-node compile", () => {
  it("prints the ASL, and nothing else, on stdout", async () => {
    const dir = await tempDir();
    const r = await cli(["compile", await writeJson(dir, "wf.json", workflow)]);
    expect(r.code).to.equal(0);
    const asl = JSON.parse(r.stdout);
    expect(asl.StartAt).to.be.a("string");
    expect(JSON.stringify(asl)).to.contain('"processor:d"');
  });

  it("prints the same bytes on every run", async () => {
    const dir = await tempDir();
    const file = await writeJson(dir, "wf.json", workflow);
    expect((await cli(["compile", file])).stdout).to.equal((await cli(["compile", file])).stdout);
  });

  it("writes the ASL to -o FILE", async () => {
    const dir = await tempDir();
    const out = join(dir, "machine.json");
    const r = await cli(["compile", await writeJson(dir, "wf.json", workflow), "-o", out]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal("");
    expect(JSON.parse(await readFile(out, "utf8")).States).to.be.an("object");
  });

  it("writes main.asl.json and one file per child machine with --out-dir", async () => {
    const dir = await tempDir();
    const processors = Array.from({ length: 1200 }, (_, i) => ({ id: `p${i}`, sourceUrl: `registry.example/p${i % 7}:1`, dependsOn: i >= 7 ? [`p${i - 7}`, `p${i - 3}`] : [] }));
    const r = await cli(["compile", await writeJson(dir, "wf.json", { name: "big", processors }), "--out-dir", join(dir, "out"), "--json"]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    const files = (await readdir(join(dir, "out"))).sort();
    expect(files).to.include("main.asl.json");
    expect(files.length).to.be.greaterThan(1);
    const main = await readFile(join(dir, "out", "main.asl.json"), "utf8");
    for (const f of files.filter((f) => f !== "main.asl.json")) expect(main).to.contain(`"child:${f.replace(".asl.json", "")}"`);
    expect(JSON.parse(r.stdout).stats.processors).to.equal(1200);
  });

  it("exits 2 naming --out-dir when a workflow needs child machines and none is given", async () => {
    const dir = await tempDir();
    const processors = Array.from({ length: 1200 }, (_, i) => ({ id: `p${i}`, sourceUrl: `registry.example/p${i % 7}:1`, dependsOn: i >= 7 ? [`p${i - 7}`, `p${i - 3}`] : [] }));
    const r = await cli(["compile", await writeJson(dir, "wf.json", { name: "big", processors })]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal("");
    expect(r.stderr).to.contain("--out-dir");
  });

  it("reads --hints and exits 2 naming the processor for a negative runtime", async () => {
    const dir = await tempDir();
    const file = await writeJson(dir, "wf.json", workflow);
    expect((await cli(["compile", file, "--hints", await writeJson(dir, "h.json", { a: 10, b: 400, c: 1, d: 5 })])).code).to.equal(0);
    const bad = await cli(["compile", file, "--hints", await writeJson(dir, "bad.json", { b: -1 }), "--json"]);
    expect(bad.code).to.equal(2);
    const body = JSON.parse(bad.stdout);
    expect(body.error.issues[0]).to.include({ code: "invalid_hints", processorId: "b" });
  });

  it("takes hints from earlier execution records of the same workflow and refuses another workflow's", async () => {
    const dir = await tempDir();
    const file = await writeJson(dir, "wf.json", workflow);
    const ok = await cli(["compile", file, "--json", "--hints", await writeJson(dir, "records.json", [recordOf("cli-demo", { a: 10, b: 100, c: 5, d: 1 })])]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout).stats.criticalPath).to.equal(111);
    const other = await cli(["compile", file, "--hints", await writeJson(dir, "other.json", recordOf("another", { a: 1 }))]);
    expect(other.code).to.equal(2);
    expect(other.stderr).to.contain('of workflow "another"');
  });

  it("compiles a non-series-parallel workflow in exact mode when --hints make nested Parallel states wait, and keeps them under a looser --exact-above", async () => {
    const dir = await tempDir();
    const n = { name: "n", processors: [{ id: "a", sourceUrl: "registry.example/a:1" }, { id: "b", sourceUrl: "registry.example/b:1" }, { id: "c", sourceUrl: "registry.example/c:1", dependsOn: ["a", "b"] }, { id: "d", sourceUrl: "registry.example/d:1", dependsOn: ["b"] }] };
    const file = await writeJson(dir, "n.json", n);
    const hints = await writeJson(dir, "h.json", { a: 10, b: 1, c: 1, d: 10 });
    const exact = await cli(["compile", file, "--hints", hints, "--json"]);
    expect(exact.code, exact.stderr).to.equal(0);
    expect(JSON.parse(exact.stdout).stats).to.include({ strategy: "exact", makespan: 11, criticalPath: 11 });
    const loose = await cli(["compile", file, "--hints", hints, "--json", "--exact-above", "2"]);
    expect(JSON.parse(loose.stdout).stats.strategy).to.equal("series-parallel");
    const bad = await cli(["compile", file, "--exact-above", "0.5"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain("--exact-above");
  });

  it("exits 2 on an invalid workflow", async () => {
    const dir = await tempDir();
    const r = await cli(["compile", await writeJson(dir, "wf.json", { name: "x", processors: [{ id: "a", sourceUrl: "i", dependsOn: ["nope"] }] })]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal("");
  });

  it("prints help with --help", async () => {
    const r = await cli(["compile", "--help"]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain("--out-dir");
  });
});
