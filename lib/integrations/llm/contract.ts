/**
 * The governed LLM access contract (docs/llm.md): what a node's LLM configuration resolves to, the
 * headers and variables processors use, the error codes callers branch on, and the usage records and
 * per-execution totals other parts (finalize's cost report, `compute-node llm usage`) read.
 * Dependency-free, so the governor's Lambda bundle and the CLI share it.
 */

/** What processors call: the Anthropic Messages API base URL (Function URL on AWS, a loopback port locally). */
export const ANTHROPIC_BASE_URL_ENV = "ANTHROPIC_BASE_URL";
/** The Anthropic SDKs read it; locally it carries a per-processor key the governor maps to its execution. */
export const ANTHROPIC_API_KEY_ENV = "ANTHROPIC_API_KEY";
/** Extra headers the Anthropic SDKs send, one `Name: value` per line: how a processor names its execution (`x-execution-id`). */
export const ANTHROPIC_CUSTOM_HEADERS_ENV = "ANTHROPIC_CUSTOM_HEADERS";
/** The governor Lambda's ARN, for processors that call it with `lambda:InvokeWithResponseStream` (compliant mode). */
export const LLM_FUNCTION_ENV = "COMPUTE_NODE_LLM_FUNCTION";

/** The execution a request is charged to (the workflow instance id). Checked against the node's running executions on AWS. */
export const EXECUTION_HEADER = "x-execution-id";
/** The processor making the call, recorded in usage (on AWS as the caller claims it). */
export const PROCESSOR_HEADER = "x-processor-id";
/** Locally only (`llm serve`, trusted): the user a request is charged to. On AWS the execution record names the user. */
export const USER_HEADER = "x-user-id";

/** The version Bedrock's Anthropic body requires (Anthropic-on-Bedrock request format). */
export const BEDROCK_ANTHROPIC_VERSION = "bedrock-2023-05-31";

/** Usage items and per-execution totals are kept this long (DynamoDB TTL; the file store prunes). */
export const USAGE_RETENTION_DAYS = 90;

/** The budget levels every call is reserved against at once. */
export const BUDGET_LEVELS = ["nodeDaily", "nodeMonthly", "execution", "userDaily", "userMonthly"] as const;
export type BudgetLevel = (typeof BUDGET_LEVELS)[number];

/** Caps in USD, named as in the node's LLM configuration (`llm.budgets`). */
export interface LlmBudgets {
  /** All calls of the node in one UTC day. */
  nodeDailyUsd: number;
  /** All calls of the node in one UTC calendar month. */
  nodeMonthlyUsd: number;
  /** All calls of one workflow execution, over its lifetime. */
  executionUsd: number;
  /** All calls charged to one user (the execution record's user) in one UTC day; skipped for executions with no user. */
  userDailyUsd: number;
  /** The same user's calls in one UTC calendar month. */
  userMonthlyUsd: number;
}

/** Safe defaults: small enough that a runaway loop costs little, large enough for real work. */
export const DEFAULT_LLM_BUDGETS: LlmBudgets = { nodeDailyUsd: 5, nodeMonthlyUsd: 100, executionUsd: 2, userDailyUsd: 2, userMonthlyUsd: 20 };

/** The config key of each level, for messages and `GET /v1/budget`. */
export const BUDGET_CONFIG_KEYS: Record<BudgetLevel, keyof LlmBudgets> = {
  nodeDaily: "nodeDailyUsd",
  nodeMonthly: "nodeMonthlyUsd",
  execution: "executionUsd",
  userDaily: "userDailyUsd",
  userMonthly: "userMonthlyUsd",
};

/** USD per million tokens of one model in one region, with where the numbers come from. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Prompt-cache writes with the default 5-minute lifetime. */
  cacheWrite5mPerMTok: number;
  /** Prompt-cache writes with `ttl: "1h"`. */
  cacheWrite1hPerMTok: number;
  cacheReadPerMTok: number;
  /** Prices past a prompt-length threshold (long-context pricing), when the model has them. */
  longContext?: { aboveInputTokens: number; inputPerMTok: number; outputPerMTok: number };
  /** URL(s) or `config` when the node's configuration set the price. */
  source: string;
  /** ISO date the price was read. */
  retrieved: string;
}

/** One model processors may call: the Anthropic id they name and the Bedrock model or inference profile it runs on. */
export interface LlmModel {
  /** What requests name (`claude-haiku-4-5`). */
  id: string;
  /** The Bedrock model id or inference-profile id (`us.anthropic.claude-haiku-4-5-20251001-v1:0`). */
  bedrockModelId: string;
  displayName: string;
  /** The most input tokens a request can hold: bounds what a call can cost when its size says little (PDFs). */
  contextWindowTokens: number;
  price: ModelPrice;
}

/** A node's LLM configuration resolved for its region: every allowed model has a price, every budget a value. */
export interface LlmSettings {
  computeNodeId: string;
  region: string;
  models: LlmModel[];
  budgets: LlmBudgets;
  /** A reservation not settled or released within this time is considered abandoned (a crashed governor) and freed. */
  reservationTtlSeconds: number;
  /** Bedrock calls (streams included) are cut off after this long, well inside the reservation's lifetime. */
  callTimeoutSeconds: number;
}

export const DEFAULT_CALL_TIMEOUT_SECONDS = 840;
/** Longer than any call can last (the call timeout, the Lambda's 15-minute limit), so only an abandoned reservation expires. */
export const DEFAULT_RESERVATION_TTL_SECONDS = 960;

/** The `code` of every error the governor answers with (inside the Anthropic error envelope). */
export const LLM_ERROR_CODES = [
  "invalid_request",
  "model_not_allowed",
  "model_not_enabled",
  "budget_exceeded",
  "bedrock_throttled",
  "bedrock_error",
  "execution_required",
  "execution_not_running",
  "caller_not_allowed",
  "not_found",
] as const;
export type LlmErrorCode = (typeof LLM_ERROR_CODES)[number];

/**
 * The Messages API error envelope, with our machine-readable `code` beside Anthropic's `type` and
 * `message`, and details in `error.details` (whose `error_code` the Anthropic SDKs expose as `errorCode`).
 */
export interface LlmErrorBody {
  type: "error";
  error: {
    type: string;
    message: string;
    code: LlmErrorCode;
    details: {
      error_code: LlmErrorCode;
      /** model_not_allowed: the Anthropic ids this node allows. */
      allowed_models?: string[];
      /** budget_exceeded: the level that refused the call, its cap, what remains and what the call could have cost. */
      budget?: { level: BudgetLevel; config_key: keyof LlmBudgets; cap_usd: number; remaining_usd: number; requested_usd: number; window: string };
      /** bedrock_throttled: seconds to wait (also in `retry-after`). */
      retry_after_seconds?: number;
    };
  };
  request_id: string;
}

/**
 * How one call ended. `abandoned`: the governor stopped (crashed) before settling, and the expired
 * reservation was freed by a sweep; Bedrock may have billed up to `reservedUsd` for it.
 */
export type LlmCallOutcome = "ok" | "refused" | "bedrock_error" | "client_aborted" | "stream_error" | "abandoned";

/** One usage item per call (`compute-node llm usage`). Never holds a prompt, a response or a credential. */
export interface LlmUsageRecord {
  callId: string;
  computeNodeId: string;
  executionId: string;
  processorId?: string;
  userId?: string;
  /** The Anthropic id requested and the Bedrock id called. */
  model: string;
  bedrockModelId: string;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  costUsd: number;
  /** What was reserved before the call (its maximum possible cost). */
  reservedUsd: number;
  /** True when the usage could not be read (a stream cut off): the reservation was charged in full. */
  usageEstimated: boolean;
  startedAt: string;
  latencyMs: number;
  outcome: LlmCallOutcome;
  /** The error code or Bedrock exception name, when the call failed. */
  error?: string;
}

/** Running totals of one execution's LLM calls: what finalize's cost report prints as its LLM line. */
export interface ExecutionLlmTotals {
  executionId: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** Settled cost of the calls. */
  costUsd: number;
  /** Still reserved by calls in flight (0 once the execution's calls are done). */
  reservedUsd: number;
  /** Per Anthropic model id. */
  byModel: Record<string, { calls: number; inputTokens: number; outputTokens: number; costUsd: number }>;
}

/**
 * A direct invocation of the governor Lambda (`lambda:InvokeWithResponseStream`, e.g. through the Lambda
 * VPC endpoint in compliant mode): the HTTP request it stands for. The answer streams back as the
 * Function URL protocol frames it: a JSON prelude `{"statusCode", "headers"}`, eight NUL bytes, then the body.
 */
export interface LlmInvokeEvent {
  method: "GET" | "POST";
  /** `/v1/messages`, `/v1/models`, `/v1/budget`. */
  path: string;
  headers?: Record<string, string>;
  /** The JSON request body, as a string. */
  body?: string;
}

/** Environment of the governor Lambda, set by the node program. */
export const GOVERNOR_ENV = {
  /** The resolved LlmSettings, as JSON. */
  settings: "LLM_SETTINGS",
  usageTable: "USAGE_TABLE",
  executionTable: "EXECUTION_TABLE",
  /** Comma-separated names of the processor roles allowed to call. */
  processorRoles: "PROCESSOR_ROLE_NAMES",
} as const;

/** Locally, what a processor is given so its Anthropic SDK reaches the governor and is charged to its execution. */
export interface LlmGrant {
  /** Variables to add to the processor's environment (`ANTHROPIC_BASE_URL`, a per-processor `ANTHROPIC_API_KEY`, `ANTHROPIC_CUSTOM_HEADERS` naming its execution). */
  environment: Record<string, string>;
  /** Values that must be redacted from the processor's log (the key). */
  secrets: string[];
  /** Invalidates the key once the processor has finished. */
  revoke(): void;
}

/** What the local runner asks for one processor run when the workflow has LLM access. */
export interface LlmAccess {
  grant(scope: { executionId: string; processorId: string; userId?: string }): LlmGrant;
}

/** Nano-USD (1e-9 USD): costs are integers inside the governor and the stores, so sums are exact. */
export const NANO_PER_USD = 1_000_000_000;

export function usdFromNano(nano: number): number {
  return Math.round(nano) / NANO_PER_USD;
}

export function nanoFromUsd(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

/** `$1.2345` with enough digits for small LLM costs. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  const digits = Math.abs(usd) >= 1 ? 2 : Math.abs(usd) >= 0.01 ? 4 : 6;
  return `$${usd.toFixed(digits)}`;
}

/** Empty totals of an execution with no call yet. */
export function emptyExecutionTotals(executionId: string): ExecutionLlmTotals {
  return { executionId, calls: 0, inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, costUsd: 0, reservedUsd: 0, byModel: {} };
}
