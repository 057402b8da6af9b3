import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExecutionUsage, ProcessorUsage, buildCostReport, fargateBilledSeconds, lambdaBilledMs } from "../../lib/cost";
import { PRICE_TABLES, priceTableFor, priceTableProblems } from "../../lib/cost/price-table";
import { ValidationError } from "../../lib/errors";

const US_EAST_1 = priceTableFor("us-east-1");
// us-east-1 list prices, written out so each expectation below is arithmetic a reader can redo.
const VCPU_HOUR = 0.04048;
const GB_HOUR = 0.004445;
const STORAGE_GB_HOUR = 0.000111;
const GB_SECOND = 0.0000166667;
const REQUEST = 0.0000002;

const ecs = (processorId: string, runs: ProcessorUsage["runs"], extra: Partial<ProcessorUsage> = {}): ProcessorUsage => ({ processorId, computeType: "ecs", vcpu: 1, memoryMiB: 2048, ephemeralStorageGiB: 20, status: "SUCCEEDED", runs, ...extra });
const lambda = (processorId: string, runs: ProcessorUsage["runs"], memoryMiB = 1024): ProcessorUsage => ({ processorId, computeType: "lambda", vcpu: 0, memoryMiB, status: "SUCCEEDED", runs });
const usage = (processors: ProcessorUsage[], extra: Partial<ExecutionUsage> = {}): ExecutionUsage => ({
  source: "aws",
  computeNodeId: "n1",
  workflowInstanceId: "wi-1",
  mode: "compliant",
  generatedAt: "2026-12-02T10:00:00.000Z",
  processors,
  stateTransitions: 0,
  functions: {},
  logs: { events: 0, bytes: 0 },
  networkGb: 0,
  efs: { readGb: 0, writtenGb: 0, storedGbMonths: 0 },
  ...extra,
});
const line = (report: ReturnType<typeof buildCostReport>, item: string) => report.lines.find((l) => l.item === item);

describe("buildCostReport", () => {
  it("bills a 10-second Fargate task for Fargate's one-minute minimum, shown as its own line", () => {
    const report = buildCostReport(usage([ecs("short", [{ seconds: 10, finished: true }])]), US_EAST_1);
    const perSecond = (1 * VCPU_HOUR + 2 * GB_HOUR) / 3600;
    expect(report.processors[0]).to.include({ processorId: "short", attempts: 1, retries: 0, durationSeconds: 10, billedSeconds: 60 });
    expect(report.processors[0].usd).to.be.closeTo(60 * perSecond, 1e-9);
    expect(line(report, "Fargate vCPU")).to.deep.include({ quantity: 0.002777778, unit: "vCPU-hour" });
    expect(line(report, "Fargate vCPU")!.usd).to.be.closeTo((10 * VCPU_HOUR) / 3600, 1e-9);
    expect(line(report, "Fargate memory")!.usd).to.be.closeTo((10 * 2 * GB_HOUR) / 3600, 1e-9);
    expect(line(report, "Fargate one-minute minimum")).to.deep.include({ quantity: 50, unit: "task-second" });
    expect(line(report, "Fargate one-minute minimum")!.usd).to.be.closeTo(50 * perSecond, 1e-9);
    // Each line is rounded to the nano-dollar before the sum.
    expect(report.totalUsd).to.be.closeTo(0.000822833, 2e-9);
  });

  it("rounds a Fargate task up to the next second and charges ephemeral storage beyond the included 20 GB", () => {
    expect(fargateBilledSeconds(61.2, 60)).to.equal(62);
    expect(fargateBilledSeconds(120, 60)).to.equal(120);
    const report = buildCostReport(usage([ecs("big", [{ seconds: 3600, finished: true }], { vcpu: 2, memoryMiB: 4096, ephemeralStorageGiB: 50 })]), US_EAST_1);
    expect(line(report, "Fargate ephemeral storage beyond the included 20 GB")).to.deep.include({ quantity: 30, unit: "GB-hour" });
    expect(report.processors[0].usd).to.be.closeTo(2 * VCPU_HOUR + 4 * GB_HOUR + 30 * STORAGE_GB_HOUR, 1e-9);
    expect(line(report, "Fargate one-minute minimum")).to.equal(undefined);
  });

  it("rounds Lambda duration up to the millisecond, with no minimum and without a float's stray unit", () => {
    expect(lambdaBilledMs(0.1234, 1)).to.equal(124);
    expect(lambdaBilledMs(0.1, 1)).to.equal(100);
    expect(lambdaBilledMs(0.0001, 1)).to.equal(1);
    const report = buildCostReport(usage([lambda("fast", [{ seconds: 0.1234, finished: true }])]), US_EAST_1);
    expect(line(report, "Lambda processor duration")).to.deep.include({ quantity: 0.124, unit: "GB-second" });
    expect(line(report, "Lambda processor requests")).to.deep.include({ quantity: 1, unit: "request" });
    expect(report.processors[0].billedSeconds).to.equal(0.124);
    expect(report.processors[0].usd).to.be.closeTo(0.124 * GB_SECOND + REQUEST, 1e-9);
  });

  it("bills every retry as a run of its own, each ECS task with its own minimum and each Lambda attempt as a request", () => {
    const report = buildCostReport(
      usage([
        ecs("flaky", [{ seconds: 30, finished: true }, { seconds: 90, finished: true }], { status: "SUCCEEDED" }),
        lambda("retried", [{ seconds: 1, finished: true }, { seconds: 1, finished: true }, { seconds: 2, finished: true }], 2048),
      ]),
      US_EAST_1,
    );
    const [flaky, retried] = report.processors;
    expect(flaky).to.include({ attempts: 2, retries: 1, durationSeconds: 120, billedSeconds: 150 });
    expect(flaky.usd).to.be.closeTo((150 * (VCPU_HOUR + 2 * GB_HOUR)) / 3600, 1e-9);
    expect(retried).to.include({ attempts: 3, retries: 2, billedSeconds: 4 });
    expect(retried.usd).to.be.closeTo(2 * 4 * GB_SECOND + 3 * REQUEST, 1e-9);
    expect(line(report, "Lambda processor requests")!.quantity).to.equal(3);
  });

  it("prices a processor that never finished up to the report's time and flags it; one that never started costs nothing", () => {
    const report = buildCostReport(usage([ecs("hung", [{ seconds: 300, finished: false }], { status: "STARTED" }), ecs("never", [], { status: "NOT_STARTED" })]), US_EAST_1);
    const [hung, never] = report.processors;
    expect(hung).to.include({ status: "STARTED", unfinished: true, billedSeconds: 300 });
    expect(hung.usd).to.be.closeTo((300 * (VCPU_HOUR + 2 * GB_HOUR)) / 3600, 1e-9);
    expect(never).to.include({ status: "NOT_STARTED", attempts: 0, usd: 0, billedSeconds: 0 });
    expect(never.unfinished).to.equal(undefined);
  });

  it("prices state transitions, the node's Lambdas by their memory, log ingestion with AWS's 26-byte event overhead, and an LLM line", () => {
    const report = buildCostReport(
      usage([], { stateTransitions: 40, functions: { "data-transfer": [2, 0.5], finalize: [1], join: [0.2] }, logs: { events: 1000, bytes: 1024 ** 3 - 26_000 }, llm: { usd: 0.42, calls: 7 } }),
      US_EAST_1,
    );
    expect(line(report, "Step Functions state transitions")).to.deep.include({ quantity: 40, usd: 0.001 });
    expect(line(report, "data-transfer function duration")).to.deep.include({ category: "transfer", quantity: 2.5 });
    expect(line(report, "data-transfer function requests")).to.deep.include({ quantity: 2 });
    expect(line(report, "finalize function duration")).to.deep.include({ category: "lambda", quantity: 1 });
    expect(line(report, "join function duration")).to.deep.include({ quantity: 0.05 });
    expect(line(report, "CloudWatch Logs ingestion")).to.deep.include({ quantity: 1, usd: 0.5 });
    expect(line(report, "LLM (Bedrock) usage")).to.deep.include({ category: "llm", quantity: 7, usd: 0.42 });
  });

  it("makes totalUsd the sum of its lines", () => {
    const report = buildCostReport(
      usage([ecs("a", [{ seconds: 75.5, finished: true }]), lambda("b", [{ seconds: 3.21, finished: true }])], { stateTransitions: 33, functions: { "data-transfer": [1.5] }, logs: { events: 12, bytes: 3400 }, secretApiCalls: 4, secretSeconds: 200 }),
      US_EAST_1,
    );
    expect(report.totalUsd).to.be.closeTo(report.lines.reduce((s, l) => s + l.usd, 0), 1e-12);
    expect(report.totalUsd).to.be.greaterThan(0);
  });

  it("lists what it cannot price instead of failing: unmeasured parts, the mode's network path, GPU processors", () => {
    const secure = buildCostReport({ ...usage([ecs("gpu", [{ seconds: 100, finished: true }], { gpu: 1 })], { mode: "secure" }), stateTransitions: undefined, functions: undefined, logs: undefined, networkGb: undefined, efs: undefined }, US_EAST_1);
    expect(secure.missing.map((m) => m.item)).to.deep.equal([
      'processor "gpu" on GPU capacity',
      "Step Functions state transitions",
      "the node's Lambdas (data-transfer, tokens, finalize, join)",
      "CloudWatch Logs ingestion",
      "NAT gateway data processing",
      "EFS throughput and storage",
    ]);
    expect(secure.processors[0]).to.include({ usd: 0 });
    expect(secure.processors[0].unpriced).to.match(/EC2 GPU instances/);
    const compliant = buildCostReport({ ...usage([]), networkGb: undefined }, US_EAST_1);
    expect(compliant.missing.map((m) => [m.item, m.category])).to.deep.equal([["interface endpoint data processing", "endpoints"]]);
  });

  it("adds the public IPv4 address every basic-mode Fargate task holds while billed", () => {
    const report = buildCostReport(usage([ecs("a", [{ seconds: 3600, finished: true }])], { mode: "basic" }), US_EAST_1);
    expect(line(report, "public IPv4 addresses of Fargate tasks")).to.deep.include({ quantity: 1, usd: 0.005 });
  });

  it("bills the token secret by the started hour", () => {
    const report = buildCostReport(usage([], { secretSeconds: 3601, secretApiCalls: 5 }), US_EAST_1);
    expect(line(report, "token secret storage")).to.deep.include({ quantity: 2 });
    expect(line(report, "token secret storage")!.usd).to.be.closeTo((2 * 0.4) / 730, 1e-9);
    expect(line(report, "Secrets Manager API calls (token secret)")).to.deep.include({ quantity: 5, usd: 0.000025 });
  });

  it("reports every cost as missing, and still lists the processors, when the region has no price table", () => {
    const report = buildCostReport({ ...usage([ecs("a", [{ seconds: 10, finished: true }])]), region: "ap-south-1" }, undefined);
    expect(report).to.deep.include({ region: "ap-south-1", pricingVersion: "none", totalUsd: 0, lines: [] });
    expect(report.missing.map((m) => m.item)).to.deep.equal(["every cost"]);
    expect(report.processors.map((p) => p.processorId)).to.deep.equal(["a"]);
  });

  it("marks local runs and estimates nominal, and AWS reports not", () => {
    expect(buildCostReport(usage([]), US_EAST_1).nominal).to.equal(false);
    expect(buildCostReport({ ...usage([]), source: "local" }, US_EAST_1).nominal).to.equal(true);
    expect(buildCostReport({ ...usage([]), source: "estimate" }, US_EAST_1).nominal).to.equal(true);
  });
});

describe("price tables", () => {
  it("has a complete, sourced and dated table for us-east-1, us-west-2 and eu-west-1", () => {
    expect(Object.keys(PRICE_TABLES)).to.include.members(["us-east-1", "us-west-2", "eu-west-1"]);
    for (const [region, table] of Object.entries(PRICE_TABLES)) {
      expect(priceTableProblems(table, region), region).to.deep.equal([]);
      expect(table.region).to.equal(region);
    }
  });

  it("are listed, price by price and region by region, in docs/cost.md", () => {
    const doc = readFileSync(join(__dirname, "../../docs/cost.md"), "utf8");
    const regions = Object.keys(PRICE_TABLES);
    const header = doc.split("\n").find((l) => l.startsWith("| price | per |"))!;
    expect(header.split("|").map((c) => c.trim()).slice(3, 3 + regions.length), "one column per table").to.have.members(regions);
    const columns = header.split("|").map((c) => c.trim());
    const decimal = (x: number) => x.toFixed(10).replace(/0+$/, "").replace(/\.$/, "");
    for (const key of Object.keys(PRICE_TABLES["us-east-1"].prices)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${key}\` |`));
      expect(row, key).to.be.a("string");
      const cells = row!.split("|").map((c) => c.trim());
      for (const region of regions) expect(cells[columns.indexOf(region)].replace(" †", ""), `${key} in ${region}`).to.equal(decimal(PRICE_TABLES[region].prices[key as keyof (typeof PRICE_TABLES)[string]["prices"]].usd));
    }
  });

  it("names each problem of a broken table", () => {
    const broken = structuredClone(PRICE_TABLES["us-east-1"]) as unknown as { prices: Record<string, Record<string, unknown>>; version: string };
    delete broken.prices["nat.gb"];
    broken.prices["lambda.request"].usd = -1;
    broken.prices["kms.keyMonth"].source = "http://example.org";
    broken.version = "latest";
    expect(priceTableProblems(broken, "t")).to.deep.equal([
      't: "version" must start with the ISO date the prices were checked',
      't: price "lambda.request".usd must be a non-negative number',
      't: price "nat.gb" is missing',
      't: price "kms.keyMonth".source must be an https URL',
    ]);
  });

  it("refuses a region without a table at estimate time, naming the priced regions", () => {
    const err = (() => {
      try {
        priceTableFor("ap-south-1");
      } catch (e) {
        return e;
      }
    })() as ValidationError;
    expect(err).to.be.instanceOf(ValidationError);
    expect(err.issues[0]).to.deep.include({ code: "unpriced_region", path: ["region"] });
    expect(err.issues[0].message).to.include('"ap-south-1"').and.include("eu-west-1, us-east-1, us-west-2");
  });
});
