import { Command, InvalidArgumentError } from "commander";
import { resolve } from "node:path";
import { ValidationError } from "../../errors";
import { ExecutionLlmTotals, LlmUsageRecord, formatUsd } from "../../integrations/llm/contract";
import type { LocalGovernor, UsageLocation } from "../../integrations/llm/local";
import { CliCommand, CliContext, CliIo, EXIT } from "../io";
import { runAction, writeJson } from "../action";
import { loadLlmConfig } from "../llm-config";

export { loadLlmConfig };

/** Where `run` and `llm serve` keep usage by default: beside the local runs' records. */
export const DEFAULT_LLM_USAGE_DIR = ".compute-node/llm";

export interface LlmServeOptions {
  port: number;
  host: string;
  /** An LLM configuration file (docs/llm.md). @default Claude Haiku 4.5 with the default budgets */
  config?: string;
  usageTable?: string;
  usageDir: string;
  region?: string;
  nodeId: string;
}

export interface LlmServeHooks {
  /** Called once listening (tests read the URL here). */
  onListening?: (governor: LocalGovernor) => void;
  /** Resolves when the server should stop. @default SIGINT or SIGTERM */
  stopped?: Promise<void>;
}

/** Starts the governor as an HTTP server and resolves when it has stopped. */
export async function runLlmServe(options: LlmServeOptions, io: CliIo, hooks: LlmServeHooks = {}): Promise<number> {
  const { startLocalGovernor } = await import("../../integrations/llm/local");
  const config = await loadLlmConfig(options.config, io);
  const region = options.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? "us-east-1";
  const usage: UsageLocation = options.usageTable ? { table: options.usageTable, region } : { dir: resolve(io.cwd, options.usageDir) };
  const governor = await startLocalGovernor({
    config,
    computeNodeId: options.nodeId,
    region,
    usage,
    port: options.port,
    host: options.host,
    trustHeaders: true,
    env: io.env,
    // Ids, counts and outcomes only: the governor never hands a prompt, a response or a key to its log.
    log: (entry) => io.stdout(JSON.stringify({ time: new Date().toISOString(), ...entry }) + "\n"),
  });
  const b = governor.settings.budgets;
  io.stderr(
    `LLM governor listening on ${governor.url} (node ${governor.settings.computeNodeId}, ${region})\n` +
      `  models:  ${governor.settings.models.map((m) => `${m.id} → ${m.bedrockModelId} (${formatUsd(m.price.inputPerMTok)}/${formatUsd(m.price.outputPerMTok)} per MTok)`).join(", ")}\n` +
      `  budgets: node ${formatUsd(b.nodeDailyUsd)}/day ${formatUsd(b.nodeMonthlyUsd)}/month, execution ${formatUsd(b.executionUsd)}, user ${formatUsd(b.userDailyUsd)}/day ${formatUsd(b.userMonthlyUsd)}/month\n` +
      `  usage:   ${"dir" in usage ? usage.dir : `DynamoDB table ${usage.table}`}\n` +
      `  clients: ANTHROPIC_BASE_URL=${governor.url} ANTHROPIC_API_KEY=local ANTHROPIC_CUSTOM_HEADERS="x-execution-id: <execution id>"\n`,
  );
  hooks.onListening?.(governor);
  await (hooks.stopped ?? untilSignal());
  await governor.close();
  return EXIT.ok;
}


interface UsageOptions {
  node?: string;
  usageDir: string;
  execution?: string;
  since?: Date;
  json?: boolean;
}

async function usageAction(ctx: CliContext, opts: UsageOptions): Promise<number> {
  const { readUsage, openUsageStore } = await import("../../integrations/llm/local");
  let location: UsageLocation;
  if (opts.node) {
    const { readNodeFile } = await import("../../runtime/aws");
    const node = readNodeFile(opts.node, { cwd: ctx.io.cwd });
    if (!node.llmUsageTableName)
      throw new ValidationError([{ code: "no_llm_access", path: ["node", "llmUsageTableName"], message: `node "${node.computeNodeId}" has no LLM usage table: it was provisioned without enableLLMAccess (or before it had one)` }]);
    location = { table: node.llmUsageTableName, region: node.region };
  } else location = { dir: resolve(ctx.io.cwd, opts.usageDir) };
  const records = await readUsage(location, { executionId: opts.execution, since: opts.since, until: new Date() });
  const totals = opts.execution ? await (await openUsageStore(location)).executionTotals(opts.execution) : undefined;
  const summary = summarize(records);
  if (opts.json) writeJson(ctx, { records, summary, ...(totals ? { execution: totals } : {}) });
  else ctx.io.stdout(formatUsage(records, summary, totals));
  return EXIT.ok;
}

interface UsageSummary {
  calls: number;
  refused: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number;
}

function summarize(records: LlmUsageRecord[]): UsageSummary {
  const s: UsageSummary = { calls: 0, refused: 0, inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, costUsd: 0 };
  for (const r of records) {
    if (r.outcome === "refused") s.refused++;
    else s.calls++;
    s.inputTokens += r.inputTokens;
    s.outputTokens += r.outputTokens;
    s.cacheCreationInputTokens += r.cacheCreationInputTokens;
    s.cacheReadInputTokens += r.cacheReadInputTokens;
    s.costUsd += r.costUsd;
  }
  s.costUsd = Math.round(s.costUsd * 1e9) / 1e9;
  return s;
}

function formatUsage(records: LlmUsageRecord[], s: UsageSummary, totals: ExecutionLlmTotals | undefined): string {
  if (records.length === 0) return "no LLM calls recorded\n";
  const rows = records.map((r) => [
    r.startedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    r.executionId,
    r.processorId ?? "-",
    r.model,
    r.outcome + (r.error && r.outcome !== "ok" ? ` (${r.error})` : ""),
    String(r.inputTokens + r.cacheCreationInputTokens + r.cacheReadInputTokens),
    String(r.outputTokens),
    formatUsd(r.costUsd) + (r.usageEstimated ? "*" : ""),
  ]);
  const head = ["started", "execution", "processor", "model", "outcome", "in", "out", "cost"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd() + "\n";
  let out = line(head) + rows.map(line).join("");
  out += `${s.calls} call(s), ${s.refused} refused: ${s.inputTokens} input tokens (${s.cacheReadInputTokens} read from cache, ${s.cacheCreationInputTokens} written), ${s.outputTokens} output tokens, ${formatUsd(s.costUsd)}\n`;
  if (records.some((r) => r.usageEstimated)) out += "* usage unknown (stream cut off, or the call was abandoned): charged at its reservation\n";
  if (totals) out += `execution ${totals.executionId}: ${formatUsd(totals.costUsd)} settled${totals.reservedUsd > 0 ? `, ${formatUsd(totals.reservedUsd)} reserved by calls in flight` : ""}\n`;
  return out;
}

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be an integer between 0 and 65535");
  return n;
};

const date = (value: string) => {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError("must be a date (2026-12-01) or an ISO time (2026-12-01T09:00:00Z)");
  return d;
};

function untilSignal(): Promise<void> {
  return new Promise((ok) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      ok();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export const llmCommand: CliCommand = {
  register(program: Command, ctx) {
    const llm = program.command("llm").description("Governed LLM access: the Anthropic Messages API in front of Bedrock, with model allow-lists and budgets (docs/llm.md).");
    llm
      .command("serve")
      .description(
        "Run the LLM governor locally over HTTP (POST /v1/messages with streaming, GET /v1/models, GET /v1/budget). Bedrock is reached with the standard AWS configuration " +
          "(AWS_ENDPOINT_URL_BEDROCK_RUNTIME points it elsewhere). Requests name their execution with x-execution-id, trusted here. Logs (ids and counts, never prompts) go to stdout.",
      )
      .option("--port <n>", "port to listen on (0: a free one)", port, 8089)
      .option("--host <address>", "address to listen on", "127.0.0.1")
      .option("--config <file>", "LLM configuration JSON: allowedModels, budgets, prices (docs/llm.md)")
      .option("--usage-table <name>", "keep budgets and usage in this DynamoDB table instead of --usage-dir")
      .option("--usage-dir <dir>", "file store for budgets and usage", DEFAULT_LLM_USAGE_DIR)
      .option("--region <region>", "Bedrock region and price table (default: AWS_REGION, else us-east-1)")
      .option("--node-id <id>", "node id the budgets and usage are kept under", "local")
      .action((opts: LlmServeOptions) => runAction(ctx, {}, () => runLlmServe(opts, ctx.io)));
    llm
      .command("usage")
      .description("List LLM calls (one line each: execution, processor, model, outcome, tokens, cost) and their totals.")
      .option("--node <file>", "AWS: the node's stack outputs; reads its usage table (llmUsageTableName)")
      .option("--usage-dir <dir>", "local: the file store of `run --llm-config` and `llm serve`", DEFAULT_LLM_USAGE_DIR)
      .option("--execution <id>", "only this execution's calls, with its running totals")
      .option("--since <date>", "only calls started at or after this date or time (UTC)", date)
      .option("--json", 'print {"records", "summary", "execution"} on stdout')
      .action((opts: UsageOptions) => runAction(ctx, opts, () => usageAction(ctx, opts)));
  },
};
