import { expect } from "chai";
import { mkdtemp, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Ajv from "ajv";
import { buildCostReport, costSummary, priceTableFor } from "../../lib/cost";
import { CostReportSchema, CostSummarySchema } from "../../lib/cost/schema";
import { estimateWorkflowCost } from "../../lib/cost/workflow-cost";
import { finalizeCostReport } from "../../lib/integrations/finalize/lambda";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { runLocalWorkflow } from "../../lib/runtime/local/runner";

const root = resolve(__dirname, "../..");

describe("schemas/cost-report.schema.json", function () {
  this.timeout(60000);
  const reports: [string, unknown][] = [];

  before(async () => {
    const touch = [process.execPath, "-e", `const p = require("path"); require("fs").writeFileSync(p.join(process.env.OUTPUT_DIR, p.basename(process.env.OUTPUT_DIR)), "x")`];
    const plan = resolvePlan(
      { name: "schema", processors: [{ id: "a", sourceUrl: "local/a" }, { id: "b", sourceUrl: "local/b", dependsOn: ["a"] }] },
      { processors: [{ sourceUrl: "local/a", computeTypes: ["ecs"], localCommand: touch }, { sourceUrl: "local/b", computeTypes: ["lambda"], localCommand: touch }] },
    );
    const dir = await mkdtemp(join(tmpdir(), "cn-schema-"));
    await mkdir(join(dir, "in"));
    await writeFile(join(dir, "in", "x"), "x");
    const record = await runLocalWorkflow({ plan, inputDir: join(dir, "in"), workdir: join(dir, "work"), executionId: "wi-schema" });
    reports.push(["a local run's cost-report.json", JSON.parse(await readFile(record.artifacts!.costReport, "utf8"))]);
    const end = new Date("2026-12-02T10:00:00.000Z");
    const awsRecord = { startedAt: "2026-12-02T09:00:00.000Z", snapshot: executionSnapshot(plan, "h"), processors: { a: { status: "SUCCEEDED", startedAt: "2026-12-02T09:01:00.000Z", finishedAt: "2026-12-02T09:03:00.000Z", attempts: 2 }, b: { status: "STARTED", startedAt: "2026-12-02T09:04:00.000Z" } } };
    reports.push(["the finalize Lambda's report without a history", finalizeCostReport({ computeNodeId: "n1", workflowInstanceId: "wi-1", status: "FAILED", region: "us-west-2", record: awsRecord, end })]);
    reports.push(["the finalize Lambda's report in a region without prices", finalizeCostReport({ computeNodeId: "n1", workflowInstanceId: "wi-1", status: "SUCCEEDED", region: "ap-south-1", record: awsRecord, end })]);
    reports.push(["an estimate", estimateWorkflowCost({ plan, hints: { a: 30, b: 2 }, region: "eu-west-1", now: end })]);
    reports.push(["a report of GPU and unfinished runs", buildCostReport({ source: "aws", computeNodeId: "n1", mode: "secure", generatedAt: end.toISOString(), processors: [{ processorId: "g", computeType: "ecs", vcpu: 4, memoryMiB: 16384, gpu: 1, status: "STARTED", runs: [{ seconds: 10, finished: false }] }] }, priceTableFor("us-east-1"))]);
  });

  it("accepts every report compute-node writes, whoever wrote it", async () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(await readFile(join(root, "schemas/cost-report.schema.json"), "utf8")));
    expect(reports).to.have.length(5);
    for (const [what, report] of reports) {
      expect(validate(report), `${what}: ${JSON.stringify(validate.errors)}`).to.equal(true);
      expect(CostReportSchema.safeParse(report).success, what).to.equal(true);
    }
  });

  it("refuses what is not a report: an unknown category, a negative cost, a stray field", async () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(await readFile(join(root, "schemas/cost-report.schema.json"), "utf8")));
    const good = reports[0][1] as Record<string, unknown> & { lines: Record<string, unknown>[] };
    expect(validate({ ...good, lines: [{ ...good.lines[0], category: "gpu" }] })).to.equal(false);
    expect(validate({ ...good, totalUsd: -1 })).to.equal(false);
    expect(validate({ ...good, totalEstimatedUsd: 1 })).to.equal(false);
  });

  it("describes the --json estimate as the report's summary", () => {
    for (const [what, report] of reports) expect(CostSummarySchema.safeParse(costSummary(report as never)).success, what).to.equal(true);
  });
});
