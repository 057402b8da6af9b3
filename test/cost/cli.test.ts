import { expect } from "chai";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cli } from "../cli/harness";

const example = resolve(__dirname, "../../examples/text-pipeline");

async function scratch(files: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cn-cost-cli-"));
  for (const [name, value] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), JSON.stringify(value));
  }
  return dir;
}

const workflow = { name: "w", processors: [{ id: "align", sourceUrl: "img/align:1" }, { id: "qc", sourceUrl: "img/qc:1", dependsOn: ["align"] }] };
const processors = [
  { sourceUrl: "img/align:1", computeTypes: ["ecs"], cpu: 2, memory: 4096 },
  { sourceUrl: "img/qc:1", computeTypes: ["lambda"], memory: 2048 },
];
const record = (id: string, workflowName: string, seconds: Record<string, number>) => ({
  executionId: id,
  workflowInstanceId: id,
  backend: "local",
  computeNodeId: "local",
  createdAt: "2026-12-01T00:00:00.000Z",
  snapshot: { workflow: { ...workflow, name: workflowName }, processors, invocation: {}, mode: "basic", resolved: [], definitionHash: "h" },
  status: "SUCCEEDED",
  processors: Object.fromEntries(Object.entries(seconds).map(([p, s]) => [p, { status: "SUCCEEDED", startedAt: "2026-12-01T00:00:00.000Z", finishedAt: new Date(Date.parse("2026-12-01T00:00:00.000Z") + s * 1000).toISOString() }])),
});

describe("compute-node cost", function () {
  this.timeout(120000);

  it("estimate --json prints exactly totalUsd, lines, pricingVersion, region and missing, the total the sum of the lines", async () => {
    const dir = await scratch({ "workflow.json": workflow, "processors.json": processors, "hints.json": { align: 600, qc: 30 } });
    const { code, stdout } = await cli(["cost", "estimate", "workflow.json", "--processors", "processors.json", "--hints", "hints.json", "--region", "eu-west-1", "--json"], { cwd: dir });
    expect(code).to.equal(0);
    const out = JSON.parse(stdout);
    expect(Object.keys(out)).to.deep.equal(["totalUsd", "lines", "pricingVersion", "region", "missing"]);
    expect(out.region).to.equal("eu-west-1");
    for (const line of out.lines) {
      expect(Object.keys(line)).to.deep.equal(["item", "category", "quantity", "unit", "usd"]);
      expect(["ecs", "lambda", "stepfunctions", "transfer", "efs", "logs", "nat", "endpoints", "kms", "llm", "other"]).to.include(line.category);
    }
    expect(out.totalUsd).to.be.closeTo(out.lines.reduce((s: number, l: { usd: number }) => s + l.usd, 0), 1e-9);
    // align: 600 s of 2 vCPU and 4 GB on Fargate.
    expect(out.lines.find((l: { item: string }) => l.item === "Fargate vCPU")).to.deep.include({ quantity: 0.333333333, unit: "vCPU-hour" });
  });

  it("estimate --records takes the median of this workflow's earlier runs and ignores other workflows' records", async () => {
    const dir = await scratch({
      "workflow.json": workflow,
      "processors.json": processors,
      "work/executions/wi-1/record.json": record("wi-1", "w", { align: 100, qc: 10 }),
      "work/executions/wi-2/record.json": record("wi-2", "w", { align: 300, qc: 30 }),
      "work/executions/wi-3/record.json": record("wi-3", "w", { align: 200, qc: 20 }),
      "work/executions/wi-4/record.json": record("wi-4", "other", { align: 9999 }),
    });
    const { code, stdout } = await cli(["cost", "estimate", "workflow.json", "--processors", "processors.json", "--records", "work/executions", "--report"], { cwd: dir });
    expect(code).to.equal(0);
    const report = JSON.parse(stdout);
    expect(report.processors.map((p: { processorId: string; durationSeconds: number }) => [p.processorId, p.durationSeconds])).to.deep.equal([["align", 200], ["qc", 20]]);
    expect(report).to.include({ source: "estimate", makespanSeconds: 220 });
  });

  it("estimate refuses a region without a price table, naming the priced ones, with exit code 2", async () => {
    const { code, stdout } = await cli(["cost", "estimate", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--region", "ap-south-1", "--json"]);
    expect(code).to.equal(2);
    const issue = JSON.parse(stdout).error.issues[0];
    expect(issue).to.deep.include({ code: "unpriced_region", path: ["region"] });
    expect(issue.message).to.include("eu-west-1, us-east-1, us-west-2");
  });

  it("estimate refuses --hints together with --records, and a records directory without this workflow", async () => {
    const dir = await scratch({ "workflow.json": workflow, "hints.json": {}, "runs/r.json": record("wi-9", "other", { align: 1 }) });
    const both = await cli(["cost", "estimate", "workflow.json", "--hints", "hints.json", "--records", "runs", "--json"], { cwd: dir });
    expect(both.code).to.equal(2);
    expect(JSON.parse(both.stdout).error.issues[0]).to.deep.include({ code: "conflicting_options", path: ["--records"] });
    const none = await cli(["cost", "estimate", "workflow.json", "--records", "runs", "--json"], { cwd: dir });
    expect(none.code).to.equal(2);
    expect(JSON.parse(none.stdout).error.issues[0].message).to.include('no execution record of workflow "w"');
  });

  it("estimate without --json prints the lines, the processors and what is not priced", async () => {
    const { code, stdout } = await cli(["cost", "estimate", join(example, "workflow.json"), "--processors", join(example, "processors.json")]);
    expect(code).to.equal(0);
    expect(stdout).to.match(/^workflow "text-pipeline" \(basic, us-east-1, prices of \d{4}-\d{2}-\d{2}\): \$/);
    expect(stdout).to.include("processors:").and.include("not priced:").and.include('processor "clean": no runtime hint');
  });

  it("node --json prints the fixed monthly cost with period month, and node synth's column adds up to it", async () => {
    const node = await cli(["cost", "node", "--mode", "secure", "--json"]);
    expect(node.code).to.equal(0);
    const cost = JSON.parse(node.stdout);
    expect(Object.keys(cost)).to.deep.equal(["totalUsd", "lines", "pricingVersion", "region", "missing", "period"]);
    expect(cost.period).to.equal("month");
    const synth = await cli(["node", "synth", "--mode", "secure", "--node-id", "estimate", "--json"]);
    const column = JSON.parse(synth.stdout) as { monthlyUsd: number }[];
    expect(column.reduce((s, r) => s + r.monthlyUsd, 0)).to.be.closeTo(cost.totalUsd, 1e-6);
  });

  it("node refuses an unpriced region at estimate time", async () => {
    const { code, stderr } = await cli(["cost", "node", "--mode", "basic", "--region", "sa-east-1"]);
    expect(code).to.equal(2);
    expect(stderr).to.include('no price table for region "sa-east-1"');
  });
});
