import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { buildCostReport, priceTableFor } from "../../lib/cost";
import { createFinalizeHandler } from "../../lib/integrations/finalize/lambda";
import { localCostUsage } from "../../lib/integrations/finalize/local";
import { LocalUsageMeter } from "../../lib/runtime/local/usage-meter";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { parseNodeConfig } from "../../lib/node/config";
import { synthNode } from "../../lib/node/synth";

const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img:1" }] });
const END = new Date("2026-12-02T10:00:00.000Z");

/** What the governor's usage table holds for an execution: its lifetime budget counter (lib/integrations/llm/dynamo-store.ts). */
const totalsItem = { calls: { N: "7" }, spentNano: { N: "420000000" }, committedNano: { N: "450000000" } };

function finalizeWith(usage: (input: Record<string, any>) => unknown) {
  const written: Record<string, string> = {};
  const handler = createFinalizeHandler({
    s3: { send: async (c: unknown) => { if (c instanceof PutObjectCommand) written[c.input.Key!] = String(c.input.Body); return {}; } } as never,
    logs: { send: async (c: unknown) => { if (c instanceof FilterLogEventsCommand) return { events: [] }; throw new Error("unexpected"); } } as never,
    dynamodb: {
      send: async (c: unknown) => {
        if (!(c instanceof GetItemCommand)) throw new Error("unexpected");
        if (c.input.TableName === "execs") return { Item: { record: { B: gzipSync(JSON.stringify({ startedAt: "2026-12-02T09:59:00.000Z", snapshot: executionSnapshot(plan, "h"), processors: {} })) } } };
        return usage(c.input as Record<string, any>);
      },
    } as never,
    secrets: { send: async () => ({}) } as never,
    env: { LOG_ARCHIVE_BUCKET: "archive", LOG_GROUP_NAME: "/cn/n1", EXECUTION_TABLE: "execs", LLM_USAGE_TABLE: "cn-n1-llm-usage", AWS_REGION: "us-east-1" },
    now: () => END,
  });
  return { written, run: () => handler({ action: "finalize", computeNodeId: "n1", workflowInstanceId: "wi-1", status: "SUCCEEDED" }) };
}

describe("the cost report's LLM line", () => {
  it("on AWS, prices the execution's settled LLM cost from the governor's usage table and names what is still reserved", async () => {
    const keys: unknown[] = [];
    const { written, run } = finalizeWith((input) => {
      keys.push(input.Key);
      return { Item: totalsItem };
    });
    await run();
    const report = JSON.parse(written["executions/n1/wi-1/cost-report.json"]);
    expect(report.lines.find((l: { category: string }) => l.category === "llm")).to.deep.equal({ item: "LLM (Bedrock) usage", category: "llm", quantity: 7, unit: "call", usd: 0.42 });
    expect(report.missing.find((m: { item: string }) => m.item === "LLM calls in flight").reason).to.include("$0.03");
    expect(keys).to.deep.equal([{ pk: { S: "budget#execution#wi-1#lifetime" }, sk: { S: "total" } }]);
  });

  it("on AWS, turns an unreadable usage table into a missing entry, never a failed finalize", async () => {
    const { written, run } = finalizeWith(() => Promise.reject(Object.assign(new Error("denied"), { name: "AccessDeniedException" })));
    await run();
    const report = JSON.parse(written["executions/n1/wi-1/cost-report.json"]);
    expect(report.missing.find((m: { item: string }) => m.item === "LLM (Bedrock) usage").reason).to.include("AccessDeniedException");
  });

  it("is read from the table the node program names in finalize's environment, on nodes with LLM access only", async function () {
    this.timeout(120000);
    const env = async (enableLLMAccess: boolean) => {
      const { resources } = await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "basic", enableLLMAccess }));
      return (resources.find((r) => r.name === "cn-n1-finalize")!.inputs.environment as { variables: Record<string, string> }).variables;
    };
    expect((await env(true)).LLM_USAGE_TABLE).to.equal("cn-n1-llm-usage");
    expect(await env(false)).to.not.have.property("LLM_USAGE_TABLE");
  });

  it("locally, prices the local governor's totals the same way", () => {
    const usage = localCostUsage({
      plan,
      computeNodeId: "local",
      workflowInstanceId: "wi-1",
      status: "SUCCEEDED",
      meter: new LocalUsageMeter(() => END),
      recordedStatuses: new Map(),
      logs: { events: 0, bytes: 0 },
      startedAt: END,
      invokedAt: END,
      now: END,
      region: "us-east-1",
      llm: { calls: 7, costUsd: 0.42, reservedUsd: 0 },
    });
    const report = buildCostReport(usage, priceTableFor("us-east-1"));
    expect(report.lines.find((l) => l.category === "llm")).to.deep.equal({ item: "LLM (Bedrock) usage", category: "llm", quantity: 7, unit: "call", usd: 0.42 });
    expect(report.missing.map((m) => m.item)).to.not.include("LLM calls in flight");
  });
});
