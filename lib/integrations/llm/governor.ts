import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";

/** A processor's request to the governed LLM proxy. */
export interface GovernorEvent {
  modelId: string;
  /** The Bedrock InvokeModel body (Anthropic messages API). */
  body: Record<string, unknown>;
  workflowInstanceId?: string;
  processorId?: string;
}

export interface GovernorResult {
  ok: boolean;
  error?: "model_not_allowed" | "budget_exhausted" | "invalid_request";
  message?: string;
  response?: unknown;
  costUsd?: number;
}

export interface GovernorDeps {
  env: Record<string, string | undefined>;
  dynamodb: Pick<DynamoDBClient, "send">;
  invokeModel: (modelId: string, body: string) => Promise<{ body: string }>;
  now: () => Date;
}

// USD per million tokens; Bedrock on-demand list prices of the models allowed by default. Overridable by MODEL_PRICES.
const DEFAULT_PRICES: Record<string, { input: number; output: number }> = {
  "anthropic.claude-3-5-haiku-20241022-v1:0": { input: 0.8, output: 4 },
  "anthropic.claude-3-5-sonnet-20241022-v2:0": { input: 3, output: 15 },
};

/**
 * Enforces the node's model allowlist and monthly budget, forwards the call to Bedrock and
 * records the spend in the usage table (one item per month, atomic ADD).
 */
export function createGovernor(deps: GovernorDeps) {
  const allowed = (deps.env.ALLOWED_MODELS ?? "").split(",").filter(Boolean);
  const budget = Number(deps.env.MONTHLY_BUDGET_USD ?? "0");
  const table = deps.env.USAGE_TABLE ?? "";
  const prices = { ...DEFAULT_PRICES, ...(deps.env.MODEL_PRICES ? (JSON.parse(deps.env.MODEL_PRICES) as typeof DEFAULT_PRICES) : {}) };
  return async (event: GovernorEvent): Promise<GovernorResult> => {
    if (!event || typeof event.modelId !== "string" || typeof event.body !== "object" || event.body === null) return { ok: false, error: "invalid_request", message: "expected {modelId, body}" };
    if (!allowed.includes(event.modelId)) return { ok: false, error: "model_not_allowed", message: `model ${event.modelId} is not allowed on this node (allowed: ${allowed.join(", ")})` };
    const month = deps.now().toISOString().slice(0, 7);
    const usage = await deps.dynamodb.send(new GetItemCommand({ TableName: table, Key: { month: { S: month } }, ConsistentRead: true }));
    const spent = Number(usage.Item?.spentUsd?.N ?? "0");
    if (spent >= budget) return { ok: false, error: "budget_exhausted", message: `monthly LLM budget of $${budget} is spent ($${spent.toFixed(2)} in ${month})` };
    const raw = await deps.invokeModel(event.modelId, JSON.stringify(event.body));
    const response = JSON.parse(raw.body) as { usage?: { input_tokens?: number; output_tokens?: number } };
    const price = prices[event.modelId] ?? { input: 0, output: 0 };
    const costUsd = ((response.usage?.input_tokens ?? 0) * price.input + (response.usage?.output_tokens ?? 0) * price.output) / 1e6;
    await deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { month: { S: month } },
        UpdateExpression: "ADD spentUsd :c, requests :one",
        ExpressionAttributeValues: { ":c": { N: costUsd.toFixed(6) }, ":one": { N: "1" } },
      }),
    );
    return { ok: true, response, costUsd };
  };
}

export const handler = (event: GovernorEvent) => {
  // The Bedrock runtime client ships with the Lambda Node.js runtime; it is not a dependency of this repository.
  const bedrock = require("@aws-sdk/client-bedrock-runtime");
  const client = new bedrock.BedrockRuntimeClient({});
  return createGovernor({
    env: process.env,
    dynamodb: new DynamoDBClient({}),
    invokeModel: async (modelId, body) => {
      const out = await client.send(new bedrock.InvokeModelCommand({ modelId, body, contentType: "application/json", accept: "application/json" }));
      return { body: new TextDecoder().decode(out.body) };
    },
    now: () => new Date(),
  })(event);
};
