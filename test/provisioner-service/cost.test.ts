import { expect } from "chai";
import request from "supertest";
import { removeDir, startTestService, TestService } from "./helpers";

const workflow = { name: "w", processors: [{ id: "align", sourceUrl: "img/align:1" }, { id: "qc", sourceUrl: "img/qc:1", dependsOn: ["align"] }] };
const processors = [
  { sourceUrl: "img/align:1", computeTypes: ["ecs"], cpu: 2, memory: 4096 },
  { sourceUrl: "img/qc:1", computeTypes: ["lambda"], memory: 2048 },
];

describe("provisioner service: cost", function () {
  this.timeout(240000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService();
  });
  after(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("estimates a workflow's execution with the CLI's --json shape, and the whole report on request", async () => {
    const summary = (await svc.post("/v1/cost/estimate", { workflow, processors, hints: { align: 600, qc: 30 }, region: "us-west-2" }).expect(200)).body;
    expect(Object.keys(summary)).to.deep.equal(["totalUsd", "lines", "pricingVersion", "region", "missing"]);
    expect(summary.region).to.equal("us-west-2");
    expect(summary.totalUsd).to.be.closeTo(summary.lines.reduce((s: number, l: { usd: number }) => s + l.usd, 0), 1e-9);
    const report = (await svc.post("/v1/cost/estimate", { workflow, processors, hints: { align: 600, qc: 30 }, report: true }).expect(200)).body;
    expect(report).to.include({ source: "estimate", makespanSeconds: 630, region: "us-east-1" });
    expect(report.processors.map((p: { processorId: string; billedSeconds: number }) => [p.processorId, p.billedSeconds])).to.deep.equal([["align", 600], ["qc", 30]]);
  });

  it("answers 400 naming the field for a bad workflow, an unpriced region, or hints with records", async () => {
    const bad = (await svc.post("/v1/cost/estimate", { workflow: { name: "w", processors: [{ id: "a", sourceUrl: "x", dependsOn: ["zz"] }] } }).expect(400)).body;
    expect(bad.error.issues[0].path.slice(0, 2)).to.deep.equal(["body", "workflow"]);
    const unpriced = (await svc.post("/v1/cost/estimate", { workflow, region: "ap-south-1" }).expect(400)).body;
    expect(unpriced.error.issues[0]).to.deep.include({ code: "unpriced_region", path: ["body", "region"] });
    const both = (await svc.post("/v1/cost/estimate", { workflow, hints: {}, records: [] }).expect(400)).body;
    expect(both.error.issues[0].path).to.deep.equal(["body", "records"]);
  });

  it("requires the bearer token like every route", async () => {
    await request(svc.url).post("/v1/cost/estimate").send({ workflow }).expect(401);
    await request(svc.url).get("/v1/cost/node?mode=basic").expect(401);
  });

  it("prices a node's fixed month from the resources its program creates, synthesized outside the service's process", async () => {
    const [basic, compliant] = await Promise.all([svc.get("/v1/cost/node?mode=basic").expect(200), svc.get("/v1/cost/node?mode=compliant&availabilityZones=3&flowLogGb=10").expect(200)]);
    expect(Object.keys(compliant.body)).to.deep.equal(["totalUsd", "lines", "pricingVersion", "region", "missing", "period"]);
    expect(compliant.body.period).to.equal("month");
    expect(basic.body.totalUsd).to.be.lessThan(compliant.body.totalUsd);
    const interfaces = compliant.body.lines.filter((l: { unit: string }) => l.unit === "endpoint-AZ-hour");
    expect(interfaces.length).to.be.greaterThan(5);
    expect(interfaces.every((l: { quantity: number }) => l.quantity === 3 * 730)).to.equal(true);
    expect(compliant.body.lines.map((l: { item: string }) => l.item)).to.include("VPC flow log ingestion (assumed 10 GB/month)");
  });

  it("is in the OpenAPI document, with its request and response schemas", async () => {
    const doc = (await svc.get("/openapi.json").expect(200)).body;
    expect(doc.paths["/v1/cost/estimate"].post.operationId).to.equal("estimateWorkflowCost");
    expect(doc.paths["/v1/cost/node"].get.parameters.map((p: { name: string }) => p.name)).to.include.members(["mode", "region", "availabilityZones", "flowLogGb"]);
    expect(Object.keys(doc.components.schemas)).to.include.members(["CostEstimate", "CostReport", "NodeMonthlyCost", "CostEstimateRequestInput", "CostLine"]);
  });

  it("refuses a bad query, or a region without prices, before synthesizing anything", async () => {
    const body = (await svc.get("/v1/cost/node?mode=cheap&availabilityZones=9").expect(400)).body;
    expect(body.error.issues.map((i: { path: string[] }) => i.path.join("."))).to.include.members(["query.mode", "query.availabilityZones"]);
    const unpriced = (await svc.get("/v1/cost/node?mode=basic&region=ap-south-1").expect(400)).body;
    expect(unpriced.error.issues[0]).to.deep.include({ code: "unpriced_region", path: ["query", "region"] });
  });

  it("refuses records of other workflows only", async () => {
    const other = { executionId: "wi-1", workflowInstanceId: "wi-1", backend: "local", computeNodeId: "local", createdAt: "2026-12-01T00:00:00.000Z", status: "SUCCEEDED", processors: {}, snapshot: { workflow: { name: "other", processors: [{ id: "x", sourceUrl: "x" }] }, processors: [], invocation: {}, mode: "basic", resolved: [], definitionHash: "h" } };
    const body = (await svc.post("/v1/cost/estimate", { workflow, records: [other] }).expect(400)).body;
    expect(body.error.issues[0]).to.deep.include({ code: "no_records", path: ["body", "records"] });
  });
});
