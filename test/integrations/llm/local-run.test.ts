import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { resolvePlan } from "../../../lib/plan/resolve";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { LocalGovernor, startLocalGovernor } from "../../../lib/integrations/llm/local";
import { scratch } from "../../runtime/local/helpers";
import { BedrockStandIn, startBedrockStandIn } from "./bedrock-stand-in";
import { HAIKU_PROFILE } from "./harness";

const PROCESSOR = resolve(__dirname, "fixtures", "llm-processor.js");

describe("a local run with LLM access", function () {
  this.timeout(120000);
  let bedrock: BedrockStandIn;
  let governor: LocalGovernor;
  const saved = { endpoint: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeEach(async () => {
    bedrock = await startBedrockStandIn();
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.url;
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  });
  afterEach(async () => {
    await governor?.close();
    await bedrock.close();
    for (const [name, value] of [["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", saved.endpoint], ["AWS_ACCESS_KEY_ID", saved.key], ["AWS_SECRET_ACCESS_KEY", saved.secret]] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  it("gives each processor ANTHROPIC_BASE_URL and its own key, charging its execution, processor and user", async () => {
    const { root, input, workdir } = await scratch({ "scan-01.tif": "x", "scan-02.tif": "y" });
    governor = await startLocalGovernor({ config: { allowedModels: { "claude-haiku-4-5": HAIKU_PROFILE } }, usage: { dir: join(root, "llm") }, region: "us-east-1" });
    bedrock.behaviours.set("*", { text: "two scans", usage: { input_tokens: 40, output_tokens: 3 } });
    const command = [process.execPath, PROCESSOR];
    const plan = resolvePlan(
      { name: "describe", processors: [{ id: "first", sourceUrl: "local/first" }, { id: "second", sourceUrl: "local/second", dependsOn: ["first"] }] },
      { processors: [{ sourceUrl: "local/first", computeTypes: ["ecs"], localCommand: command }, { sourceUrl: "local/second", computeTypes: ["lambda"], localCommand: command }], invocation: { userId: "u-17" } },
    );
    // What a processor inherits must not carry the host's key for another Anthropic endpoint.
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, llm: governor, env: { ...process.env, ANTHROPIC_API_KEY: "sk-host-key-never-passed" } });

    expect(record.status, JSON.stringify(record.error)).to.equal("SUCCEEDED");
    const first = plan.processors.find((p) => p.id === "first")!;
    expect(readFileSync(join(record.artifacts!.outputs, first.hash, "answer.txt"), "utf8").trim().split("\n")).to.deep.equal(["two scans", "two scans"]);
    const calls = await governor.store.usage({ executionId: record.executionId, until: new Date("2100-01-01") });
    expect(calls.map((c) => [c.processorId, c.userId, c.stream, c.outcome]).sort()).to.deep.equal([
      ["first", "u-17", false, "ok"],
      ["first", "u-17", true, "ok"],
      ["second", "u-17", false, "ok"],
      ["second", "u-17", true, "ok"],
    ]);
    const totals = await governor.store.executionTotals(record.executionId);
    expect(totals).to.deep.include({ calls: 4, inputTokens: 160, outputTokens: 12 });

    // Each key was the processor's own and died with it; neither the key nor the host's reached the log.
    const log = readFileSync(record.processors.first.logFile!, "utf8");
    const printed = /key (\S+) at (\S+)/.exec(log)!;
    expect(printed[1]).to.equal("***");
    expect(printed[2]).to.equal(governor.url);
    expect(log).to.not.contain("sk-host-key-never-passed");
    expect(log).to.contain(`headers ${JSON.stringify(`x-execution-id: ${record.executionId}\nx-processor-id: first`)}`);
    const late = await new Anthropic({ baseURL: governor.url, apiKey: "cn-llm-guessed", maxRetries: 0 }).models.list().then(() => undefined, (e: unknown) => e);
    expect(late).to.be.instanceOf(Anthropic.AuthenticationError);
  });
});
