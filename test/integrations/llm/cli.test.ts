import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { runLlmServe } from "../../../lib/cli/commands/llm";
import { CliIo } from "../../../lib/cli/io";
import { LocalGovernor } from "../../../lib/integrations/llm/local";
import { cli } from "../../cli/harness";
import { BedrockStandIn, startBedrockStandIn } from "./bedrock-stand-in";
import { HAIKU_PROFILE } from "./harness";

describe("compute-node llm", function () {
  this.timeout(120000);
  let bedrock: BedrockStandIn;
  let dir: string;
  const saved = { endpoint: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeEach(async () => {
    bedrock = await startBedrockStandIn();
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.url;
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    dir = mkdtempSync(join(tmpdir(), "cn-llm-cli-"));
    writeFileSync(join(dir, "llm.json"), JSON.stringify({ allowedModels: { "claude-haiku-4-5": HAIKU_PROFILE }, budgets: { executionUsd: 0.5 } }));
  });
  afterEach(async () => {
    await bedrock.close();
    for (const [name, value] of [["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", saved.endpoint], ["AWS_ACCESS_KEY_ID", saved.key], ["AWS_SECRET_ACCESS_KEY", saved.secret]] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  it("serves the governor over HTTP for an unchanged SDK, logging ids and counts but no prompt, and lists the calls with llm usage", async () => {
    let stdout = "";
    let stderr = "";
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: dir, env: { AWS_REGION: "us-east-1" } };
    let stop!: () => void;
    const listening = new Promise<LocalGovernor>((ok) => {
      void runLlmServe({ port: 0, host: "127.0.0.1", config: "llm.json", usageDir: "usage", nodeId: "lab" }, io, { onListening: ok, stopped: new Promise<void>((s) => (stop = s)) });
    });
    const governor = await listening;
    // What ANTHROPIC_CUSTOM_HEADERS="x-execution-id: …" gives an SDK: the header on every request.
    const client = new Anthropic({ baseURL: governor.url, apiKey: "local", maxRetries: 0, defaultHeaders: { "x-execution-id": "wi-cli", "x-processor-id": "notes" } });
    await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 32, messages: [{ role: "user", content: "SECRET-PROMPT-0c7d" }] });
    await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 32, messages: [{ role: "user", content: "SECRET-PROMPT-0c7d" }], stream: true }).then(async (s) => {
      for await (const e of s) expect(e.type).to.be.a("string");
    });
    stop();

    expect(stderr).to.contain(`LLM governor listening on ${governor.url}`).and.contain("claude-haiku-4-5 → us.anthropic.claude-haiku-4-5-20251001-v1:0").and.contain("execution $0.50");
    const logs = stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; executionId: string; processorId: string; outcome: string });
    expect(logs.map((l) => [l.event, l.executionId, l.processorId, l.outcome])).to.deep.equal([
      ["llm.call", "wi-cli", "notes", "ok"],
      ["llm.call", "wi-cli", "notes", "ok"],
    ]);
    expect(stdout).to.not.contain("SECRET-PROMPT");

    const table = await cli(["llm", "usage", "--usage-dir", join(dir, "usage"), "--execution", "wi-cli"]);
    expect(table.code).to.equal(0);
    expect(table.stdout).to.match(/wi-cli\s+notes\s+claude-haiku-4-5\s+ok\s+100\s+20\s+\$0\.000220/);
    expect(table.stdout).to.contain("2 call(s), 0 refused").and.contain("execution wi-cli: $0.000440 settled");
    const json = JSON.parse((await cli(["llm", "usage", "--usage-dir", join(dir, "usage"), "--json", "--since", "2000-01-01"])).stdout) as { records: unknown[]; summary: { calls: number; costUsd: number } };
    expect(json.records).to.have.length(2);
    expect(json.summary).to.deep.include({ calls: 2, costUsd: 0.00044 });
    expect((await cli(["llm", "usage", "--usage-dir", join(dir, "usage"), "--since", "2999-01-01"])).stdout).to.equal("no LLM calls recorded\n");
  });

  it("gives the processors of `run --llm-config` governed access, recording usage beside the run", async () => {
    const workflow = join(dir, "workflow.json");
    writeFileSync(workflow, JSON.stringify({ name: "ask", processors: [{ id: "asker", sourceUrl: "local/asker" }] }));
    writeFileSync(join(dir, "processors.json"), JSON.stringify([{ sourceUrl: "local/asker", computeTypes: ["ecs"], localCommand: [process.execPath, resolve(__dirname, "fixtures", "llm-processor.js")] }]));
    const input = mkdtempSync(join(tmpdir(), "cn-llm-in-"));
    writeFileSync(join(input, "a.txt"), "a");
    const run = await cli(["run", workflow, "--processors", join(dir, "processors.json"), "--input", input, "--workdir", join(dir, "work"), "--llm-config", join(dir, "llm.json"), "--json"], { cwd: dir });
    expect(run.code, run.stderr).to.equal(0);
    const record = JSON.parse(run.stdout) as { executionId: string };
    const usage = JSON.parse((await cli(["llm", "usage", "--usage-dir", join(dir, "work", "llm"), "--execution", record.executionId, "--json"])).stdout) as { execution: { calls: number } };
    expect(usage.execution.calls).to.equal(2);
  });

  it("refuses a bad configuration, naming the key, and a node without LLM access", async () => {
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ budgets: { executionUsd: "two" } }));
    const bad = await cli(["llm", "serve", "--config", "bad.json", "--port", "0"], { cwd: dir });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain("--config.budgets.executionUsd");
    writeFileSync(
      join(dir, "node.json"),
      JSON.stringify({
        computeNodeId: "n1", deploymentMode: "basic", region: "us-east-1", clusterArn: "c", subnetIds: ["s"], securityGroupIds: ["g"], efsFileSystemId: "fs", efsAccessPointArn: "ap",
        taskExecutionRoleArn: "arn:aws:iam::123456789012:role/e", taskRoleArn: "arn:aws:iam::123456789012:role/t", stateMachineRoleArn: "arn:aws:iam::123456789012:role/s", lambdaExecutionRoleArn: "arn:aws:iam::123456789012:role/l",
        logGroupName: "lg", logArchiveBucket: "b", dataTransferFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:dt",
      }),
    );
    const none = await cli(["llm", "usage", "--node", "node.json"], { cwd: dir });
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain("enableLLMAccess");
    const since = await cli(["llm", "usage", "--since", "yesterday"], { cwd: dir });
    expect(since.code).to.equal(2);
    expect(since.stderr).to.contain("--since");
  });
});
