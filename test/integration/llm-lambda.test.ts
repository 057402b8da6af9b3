import { expect } from "chai";
import { PassThrough, Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { LlmErrorBody } from "../../lib/integrations/llm/contract";
import { createGovernorLambda, readExecutionLlmTotals, StreamingRuntime } from "../../lib/integrations/llm/lambda";
import { resolveLlmSettings } from "../../lib/integrations/llm/local";
import { usageTableDefinition } from "../../lib/integrations/llm/dynamo-store";
import { executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { BedrockStandIn, startBedrockStandIn } from "../integrations/llm/bedrock-stand-in";
import { motoNode, sdkConfig } from "./fixtures";
import { useMoto } from "./moto";

const NODE = "lab-3";
const USAGE = `cn-${NODE}-llm-usage`;
const EXECUTIONS = `cn-${NODE}-executions`;
const TASK_ROLE = "lab-3-task-role-1a2b3c";
const PROFILE = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const caller = (role: string) => `arn:aws:sts::123456789012:assumed-role/${role}/0f1e2d3c4b5a69788796a5b4c3d2e1f0`;

/** The Lambda runtime's Function URL framing: a JSON prelude, eight NUL bytes, then the body. */
const framing: StreamingRuntime = {
  httpResponseStream(stream, prelude) {
    stream.write(JSON.stringify(prelude));
    stream.write(Buffer.alloc(8));
    return stream;
  },
};

async function invoke(handler: (event: unknown, stream: Writable) => Promise<void>, event: unknown) {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  await handler(event, stream);
  const all = Buffer.concat(chunks);
  const split = all.indexOf(Buffer.alloc(8));
  const prelude = JSON.parse(all.subarray(0, split).toString("utf8")) as { statusCode: number; headers: Record<string, string> };
  return { ...prelude, body: all.subarray(split + 8).toString("utf8") };
}

function urlEvent(body: unknown, headers: Record<string, string>, role = TASK_ROLE) {
  return {
    version: "2.0",
    rawPath: "/v1/messages",
    headers: { "content-type": "application/json", ...headers },
    body: Buffer.from(JSON.stringify(body)).toString("base64"),
    isBase64Encoded: true,
    requestContext: { http: { method: "POST", path: "/v1/messages" }, authorizer: { iam: { userArn: caller(role), accountId: "123456789012" } } },
  };
}

const ask = (extra: Record<string, unknown> = {}) => ({ model: "claude-haiku-4-5", max_tokens: 200, messages: [{ role: "user", content: "Summarise the dataset." }], ...extra });

describe("LLM governor Lambda (moto DynamoDB and Step Functions, stand-in Bedrock)", function () {
  this.timeout(120000);
  const moto = useMoto();
  let bedrock: BedrockStandIn;
  let dynamodb: DynamoDBClient;
  let sfn: SFNClient;
  let live: string;
  let handler: (event: unknown, stream: Writable) => Promise<void>;
  const saved = { endpoint: process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  // The Bedrock client is configured as in the function: from the process environment.
  before(async () => {
    bedrock = await startBedrockStandIn();
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.url;
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  });
  after(async () => {
    await bedrock.close();
    for (const [name, value] of [["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", saved.endpoint], ["AWS_ACCESS_KEY_ID", saved.key], ["AWS_SECRET_ACCESS_KEY", saved.secret]] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  });

  beforeEach(async () => {
    bedrock.calls.length = 0;
    dynamodb = new DynamoDBClient(sdkConfig(moto.endpoint));
    sfn = new SFNClient(sdkConfig(moto.endpoint));
    await dynamodb.send(new CreateTableCommand(usageTableDefinition(USAGE)));
    await dynamodb.send(new CreateTableCommand(executionTableDefinition(EXECUTIONS)));
    const node = await motoNode(moto.endpoint, NODE);
    const machine = await sfn.send(
      new CreateStateMachineCommand({ name: `cn-${NODE}-wf-0123abcd`, roleArn: node.stateMachineRoleArn, definition: JSON.stringify({ StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 3600, End: true } } }) }),
    );
    // One execution per test: moto may answer a second StartExecution in a region with a 500.
    live = (await sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: "wi-live" }))).executionArn!;
    const record = (executionId: string, executionArn: string, computeNodeId = NODE) => ({
      executionId: { S: executionId },
      version: { N: "1" },
      record: { B: gzipSync(JSON.stringify({ executionId, computeNodeId, executionArn, snapshot: { invocation: { userId: "user-42", packageIds: [] } } })) },
    });
    await dynamodb.send(new PutItemCommand({ TableName: EXECUTIONS, Item: record("wi-live", live) }));
    await dynamodb.send(new PutItemCommand({ TableName: EXECUTIONS, Item: record("wi-other", live, "another-node") }));
    const settings = resolveLlmSettings({ allowedModels: { "claude-haiku-4-5": PROFILE }, budgets: { userDailyUsd: 0.01 } }, { computeNodeId: NODE, region: "us-east-1" });
    handler = createGovernorLambda({
      env: { AWS_REGION: "us-east-1", LLM_SETTINGS: JSON.stringify(settings), USAGE_TABLE: USAGE, EXECUTION_TABLE: EXECUTIONS, PROCESSOR_ROLE_NAMES: `${TASK_ROLE},lab-3-lambda-role-9f8e7d` },
      dynamodb,
      sfn,
      runtime: framing,
      log: () => undefined,
    });
  });

  it("serves a processor role's call for a running execution, charging the execution and the user its record names", async () => {
    bedrock.behaviours.set("*", { usage: { input_tokens: 300, output_tokens: 80 } });
    const res = await invoke(handler, urlEvent(ask(), { "x-execution-id": "wi-live", "x-processor-id": "summarize" }));
    expect(res.statusCode, res.body).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.include({ type: "message", role: "assistant" });
    expect(bedrock.calls.map((c) => c.modelId)).to.deep.equal([PROFILE]);
    const totals = await readExecutionLlmTotals({ dynamodb, tableName: USAGE }, "wi-live");
    expect(totals).to.deep.include({ calls: 1, inputTokens: 300, outputTokens: 80, reservedUsd: 0 });
    expect(totals.costUsd).to.be.closeTo((300 * 1.1 + 80 * 5.5) / 1e6, 1e-12);
    // The user's daily budget is $0.01: a call that could cost more is refused, naming it.
    const refused = await invoke(handler, urlEvent(ask({ max_tokens: 4000 }), { "x-execution-id": "wi-live" }));
    expect(refused.statusCode).to.equal(402);
    expect((JSON.parse(refused.body) as LlmErrorBody).error.details.budget).to.deep.include({ level: "userDaily", cap_usd: 0.01 });
  });

  it("streams server-sent events through the response stream and settles what Bedrock reported", async () => {
    bedrock.behaviours.set("*", { text: "streamed over a Function URL", usage: { input_tokens: 120, output_tokens: 9 } });
    const res = await invoke(handler, urlEvent(ask({ stream: true }), { "x-execution-id": "wi-live" }));
    expect(res.statusCode).to.equal(200);
    expect(res.headers["content-type"]).to.match(/^text\/event-stream/);
    const events = res.body.split("\n\n").filter(Boolean).map((block) => block.split("\n")[0].replace("event: ", ""));
    expect(events[0]).to.equal("message_start");
    expect(events.slice(-2)).to.deep.equal(["message_delta", "message_stop"]);
    expect(res.body).to.not.contain("amazon-bedrock-invocationMetrics");
    expect(await readExecutionLlmTotals({ dynamodb, tableName: USAGE }, "wi-live")).to.deep.include({ calls: 1, outputTokens: 9 });
  });

  it("refuses callers that are not the node's processor roles, and executions that are not this node's running ones", async () => {
    const other = await invoke(handler, urlEvent(ask(), { "x-execution-id": "wi-live" }, "someone-elses-role"));
    expect(other.statusCode).to.equal(403);
    expect((JSON.parse(other.body) as LlmErrorBody).error.code).to.equal("caller_not_allowed");
    for (const id of ["wi-other", "wi-unknown"]) {
      const res = await invoke(handler, urlEvent(ask(), { "x-execution-id": id }));
      expect((JSON.parse(res.body) as LlmErrorBody).error.code, id).to.equal("execution_not_running");
    }
    await sfn.send(new StopExecutionCommand({ executionArn: live }));
    const done = await invoke(handler, urlEvent(ask(), { "x-execution-id": "wi-live" }));
    expect(done.statusCode).to.equal(403);
    expect((JSON.parse(done.body) as LlmErrorBody).error).to.deep.include({ code: "execution_not_running" });
    expect((JSON.parse(done.body) as LlmErrorBody).error.message).to.contain("ABORTED");
    const anonymous = await invoke(handler, urlEvent(ask(), {}));
    expect((JSON.parse(anonymous.body) as LlmErrorBody).error.code).to.equal("execution_required");
    expect(bedrock.calls).to.deep.equal([]);
  });

  it("answers a direct InvokeWithResponseStream request, believing no identity claimed inside it", async () => {
    const res = await invoke(handler, { method: "GET", path: "/v1/budget", headers: { "x-execution-id": "wi-live" } });
    expect(res.statusCode).to.equal(200);
    const budget = JSON.parse(res.body) as { user_id: string; levels: { level: string }[] };
    expect(budget.user_id).to.equal("user-42");
    expect(budget.levels.map((l) => l.level)).to.deep.equal(["nodeDaily", "nodeMonthly", "execution", "userDaily", "userMonthly"]);
    const message = await invoke(handler, { method: "POST", path: "/v1/messages", headers: { "x-execution-id": "wi-other" }, body: JSON.stringify(ask()) });
    expect((JSON.parse(message.body) as LlmErrorBody).error.code).to.equal("execution_not_running");
  });

  it("fails closed, naming what is missing, when the function's environment is incomplete", async () => {
    const broken = createGovernorLambda({ env: { LLM_SETTINGS: "{}" }, dynamodb, sfn, runtime: framing, log: () => undefined });
    const res = await invoke(broken, urlEvent(ask(), { "x-execution-id": "wi-live" }));
    expect(res.statusCode).to.equal(500);
    expect(res.body).to.contain("LLM_SETTINGS").and.not.contain("Summarise");
  });
});
