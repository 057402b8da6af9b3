import { expect } from "chai";
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { createGovernor } from "../../../lib/integrations/llm/governor";

// An in-memory usage table that understands the two commands the governor sends.
function usageTable(initialSpent = 0) {
  const items = new Map<string, { spentUsd: number; requests: number }>();
  if (initialSpent) items.set("2026-11", { spentUsd: initialSpent, requests: 1 });
  return {
    items,
    send: async (command: unknown) => {
      if (command instanceof GetItemCommand) {
        const item = items.get(command.input.Key!.month.S!);
        return { Item: item ? { spentUsd: { N: String(item.spentUsd) } } : undefined };
      }
      if (command instanceof UpdateItemCommand) {
        const month = command.input.Key!.month.S!;
        const current = items.get(month) ?? { spentUsd: 0, requests: 0 };
        const values = command.input.ExpressionAttributeValues!;
        items.set(month, { spentUsd: current.spentUsd + Number(values[":c"].N), requests: current.requests + Number(values[":one"].N) });
        return {};
      }
      throw new Error("unexpected command");
    },
  };
}

const env = { ALLOWED_MODELS: "anthropic.claude-3-5-haiku-20241022-v1:0", MONTHLY_BUDGET_USD: "1", USAGE_TABLE: "usage" };
const model = "anthropic.claude-3-5-haiku-20241022-v1:0";
const now = () => new Date("2026-11-23T10:00:00Z");

describe("LLM governor", () => {
  it("forwards an allowed model's call and adds its token cost to the month's spend", async () => {
    const table = usageTable();
    const invoked: string[] = [];
    const governor = createGovernor({ env, dynamodb: table, now, invokeModel: async (id) => (invoked.push(id), { body: JSON.stringify({ content: [{ text: "hi" }], usage: { input_tokens: 1000, output_tokens: 500 } }) }) });
    const result = await governor({ modelId: model, body: { messages: [] } });
    expect(result.ok).to.equal(true);
    expect(invoked).to.deep.equal([model]);
    // 1000 × $0.80/M + 500 × $4/M
    expect(table.items.get("2026-11")).to.deep.equal({ spentUsd: 0.0028, requests: 1 });
  });

  it("refuses a model outside the node's allowlist without calling Bedrock", async () => {
    const governor = createGovernor({ env, dynamodb: usageTable(), now, invokeModel: async () => expect.fail("Bedrock was called") });
    const result = await governor({ modelId: "anthropic.claude-opus", body: {} });
    expect(result).to.include({ ok: false, error: "model_not_allowed" });
  });

  it("refuses calls once the monthly budget is spent", async () => {
    const governor = createGovernor({ env, dynamodb: usageTable(1.5), now, invokeModel: async () => expect.fail("Bedrock was called") });
    const result = await governor({ modelId: model, body: {} });
    expect(result).to.include({ ok: false, error: "budget_exhausted" });
  });
});
