import { expect } from "chai";
import { ValidationError } from "../../../lib/errors";
import { join } from "node:path";
import { loadPriceFiles } from "../../../lib/integrations/llm/prices";
import { resolveLlmSettings } from "../../../lib/integrations/llm/local";
import { parseLlmConfig, parseNodeConfig } from "../../../lib/node/config";
import { NodeService } from "../../../lib/provision/node-service";

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw err;
  }
  expect.fail("expected a ValidationError");
}

describe("LLM configuration and prices", () => {
  it("ships a dated, sourced price for every model file in every region it names", () => {
    const files = loadPriceFiles();
    expect(files.map((f) => f.model)).to.include.members(["claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6", "claude-opus-4-5", "claude-opus-4-6"]);
    for (const f of files) {
      expect(f.source, f.model).to.match(/^https:\/\//);
      expect(f.retrieved, f.model).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(f.regions, f.model).to.include("us-east-1");
      for (const kind of ["global", "regional"] as const) expect(f.endpoints[kind].outputPerMTok, `${f.model} ${kind}`).to.be.greaterThan(f.endpoints[kind].inputPerMTok);
      // Bedrock bills geographic and in-Region endpoints 10% above global ones.
      expect(f.endpoints.regional.inputPerMTok).to.be.closeTo(f.endpoints.global.inputPerMTok * 1.1, 1e-9);
    }
  });

  it("ships every price file of the prices folder with the code (the build and the Lambda archive carry only imported JSON)", () => {
    const folder = loadPriceFiles(join(__dirname, "..", "..", "..", "lib", "integrations", "llm", "prices"));
    expect(loadPriceFiles()).to.deep.equal(folder);
  });

  it("defaults to Claude Haiku 4.5 through the region's geographic profile, with the safe default budgets", () => {
    const s = resolveLlmSettings({}, { computeNodeId: "n1", region: "eu-west-1" });
    expect(s.models.map((m) => [m.id, m.bedrockModelId])).to.deep.equal([["claude-haiku-4-5", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"]]);
    expect(s.models[0].price).to.deep.include({ inputPerMTok: 1.1, outputPerMTok: 5.5 });
    expect(s.budgets).to.deep.equal({ nodeDailyUsd: 5, nodeMonthlyUsd: 100, executionUsd: 2, userDailyUsd: 2, userMonthlyUsd: 20 });
    expect(s.reservationTtlSeconds).to.be.greaterThan(s.callTimeoutSeconds);
  });

  it("prices global profiles at the global rate and lets configured prices win, with cache rates derived", () => {
    const s = resolveLlmSettings(
      { allowedModels: { fast: "global.anthropic.claude-haiku-4-5-20251001-v1:0", custom: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123" }, prices: { "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123": { inputPerMTok: 2, outputPerMTok: 8 } } },
      { computeNodeId: "n1", region: "us-east-1" },
    );
    expect(s.models[0].price).to.deep.include({ inputPerMTok: 1, outputPerMTok: 5 });
    expect(s.models[1].price).to.deep.include({ inputPerMTok: 2, outputPerMTok: 8, cacheWrite5mPerMTok: 2.5, cacheWrite1hPerMTok: 4, cacheReadPerMTok: 0.2, source: "config" });
  });

  it("refuses a model without a price, never treating it as free, and says how to price it", () => {
    const issues = issuesOf(() => resolveLlmSettings({ allowedModels: { legacy: "anthropic.claude-3-5-haiku-20241022-v1:0" } }, { computeNodeId: "n1", region: "us-east-1" }));
    expect(issues).to.have.length(1);
    expect(issues[0].path).to.equal("llm.allowedModels.legacy");
    expect(issues[0].message).to.contain("never free").and.contain('llm.prices["anthropic.claude-3-5-haiku-20241022-v1:0"]');
    const noRegion = issuesOf(() => resolveLlmSettings({ allowedModels: { h: "anthropic.claude-haiku-4-5-20251001-v1:0" } }, { computeNodeId: "n1", region: "me-central-1" }));
    expect(noRegion[0].message).to.contain("me-central-1");
  });

  it("checks prices with the node config only when LLM access is on, naming the key", () => {
    const legacy = { computeNodeId: "n1", mode: "basic", region: "us-east-1", llm: { allowedModels: ["anthropic.claude-3-5-haiku-20241022-v1:0"], monthlyBudgetUsd: 50 } };
    expect(() => parseNodeConfig(legacy)).to.not.throw();
    expect(issuesOf(() => parseNodeConfig({ ...legacy, enableLLMAccess: true })).map((i) => i.path)).to.deep.equal(["config.llm.allowedModels.claude-3-5-haiku-20241022"]);
    // The earlier shape still reads: a list of Bedrock ids, and the monthly budget as the node's.
    const config = parseNodeConfig({ ...legacy, enableLLMAccess: true, llm: { ...legacy.llm, prices: { "anthropic.claude-3-5-haiku-20241022-v1:0": { inputPerMTok: 0.8, outputPerMTok: 4 } } } });
    expect(config.llm).to.deep.include({ allowedModels: { "claude-3-5-haiku-20241022": "anthropic.claude-3-5-haiku-20241022-v1:0" } });
    expect(config.llm.budgets).to.deep.equal({ nodeMonthlyUsd: 50 });
  });

  it("names the bad key of an LLM configuration file", () => {
    const issues = issuesOf(() => parseLlmConfig({ budgets: { executionUsd: -1, weeklyUsd: 3 }, allowedModels: { "Claude Haiku": "x" } }, ["--config"]));
    expect(issues.map((i) => i.path)).to.have.members(["--config.budgets.executionUsd", "--config.budgets", "--config.allowedModels.Claude Haiku", "--config.allowedModels.Claude Haiku"]);
    expect(issues.map((i) => i.message).join("\n")).to.contain("weeklyUsd").and.contain("Anthropic model id").and.contain("inference-profile id");
  });

  it("asks for the BAA acknowledgement when an update turns LLM access on in secure mode, before anything changes", async () => {
    const calls: string[] = [];
    const node = { id: "lab", mode: "secure" as const, region: "us-east-1", options: {}, status: "ready" as const, createdAt: "2026-12-01T00:00:00Z", updatedAt: "2026-12-01T00:00:00Z" };
    const service = new NodeService({
      store: { getNode: async () => node } as never,
      manager: {} as never,
      engine: { ensureAvailable: async () => void calls.push("engine") } as never,
      runtime: {} as never,
      validateSpec: (spec) => void parseNodeConfig({ computeNodeId: spec.id, mode: spec.mode, region: spec.region, ...spec.options }),
    });
    const err = await service.update("lab", { options: { enableLLMAccess: true } }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path.join("."))).to.deep.equal(["config.baaAcknowledged"]);
    expect(calls).to.deep.equal([]);
    // A basic node turning LLM on needs none; a mode change to secure with LLM on does.
    const basic = { ...node, mode: "basic" as const, options: { enableLLMAccess: true } };
    const fromBasic = new NodeService({ store: { getNode: async () => basic } as never, manager: {} as never, engine: { ensureAvailable: async () => void calls.push("engine") } as never, runtime: {} as never, validateSpec: (spec) => void parseNodeConfig({ computeNodeId: spec.id, mode: spec.mode, region: spec.region, ...spec.options }) });
    expect(await fromBasic.update("lab", { mode: "secure" }).then(() => undefined, (e: unknown) => e)).to.be.instanceOf(ValidationError);
    expect(calls).to.deep.equal([]);
  });
});
