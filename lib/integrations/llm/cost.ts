import { LlmModel, ModelPrice } from "./contract";

/** Token counts of one call, as the Messages API's `usage` reports them. */
export interface TokenUsage {
  /** Input tokens neither read from nor written to the prompt cache. */
  inputTokens: number;
  outputTokens: number;
  /** Written to the cache (5-minute and 1-hour writes together). */
  cacheCreationInputTokens: number;
  /** The part of cacheCreationInputTokens written with `ttl: "1h"` (billed at the 1-hour rate). */
  cacheCreation1hInputTokens: number;
  cacheReadInputTokens: number;
}

export const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheCreation1hInputTokens: 0, cacheReadInputTokens: 0 };

/** The most a request can cost: its input bounded from its size (or the context window), its output by `max_tokens`. */
export interface CostBound {
  inputTokens: number;
  outputTokens: number;
  /** Nano-USD: what is reserved before the call. */
  nano: number;
}

/**
 * Per image: Anthropic resizes images to about 1.15 megapixels, about 1,600 tokens; reserve well
 * above that so a newer model's higher resolution cannot exceed the bound.
 */
const IMAGE_TOKEN_BOUND = 5_000;
/**
 * Tokens the API adds around a request: message framing, and the tool-use system prompt (a few
 * hundred tokens) when tools are present. JSON syntax already counts many bytes per message.
 */
const BASE_OVERHEAD_TOKENS = 256;
const TOOLS_OVERHEAD_TOKENS = 2_048;

/**
 * Upper bound of the input tokens of a Messages request, without a tokenizer: a byte-level BPE
 * token covers at least one byte, so the UTF-8 size of the request's JSON (media data excluded) bounds
 * its text tokens; each image adds {@link IMAGE_TOKEN_BOUND}; a base64 document adds its decoded size.
 * Never more than the model's context window, which Bedrock enforces (a refused request costs nothing).
 */
export function inputTokenBound(request: Record<string, unknown>, contextWindowTokens: number): number {
  let media = 0;
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!value || typeof value !== "object") return value;
    const block = value as Record<string, unknown>;
    const source = block.source as Record<string, unknown> | undefined;
    if ((block.type === "image" || block.type === "document") && source && typeof source === "object") {
      if (block.type === "image") media += IMAGE_TOKEN_BOUND;
      else if (source.type === "base64" && typeof source.data === "string") media += Math.ceil((source.data.length * 3) / 4);
      else if (source.type === "text" && typeof source.data === "string") media += Buffer.byteLength(source.data, "utf8");
      // A URL or file reference: its size is unknown here, so the context window bounds it.
      else media += contextWindowTokens;
      return { ...block, source: { ...source, data: "" } };
    }
    return Object.fromEntries(Object.entries(block).map(([k, v]) => [k, strip(v)]));
  };
  const counted = { system: request.system, messages: request.messages, tools: request.tools, tool_choice: request.tool_choice };
  const text = Buffer.byteLength(JSON.stringify(strip(counted)), "utf8");
  const tools = Array.isArray(request.tools) && request.tools.length > 0 ? TOOLS_OVERHEAD_TOKENS : 0;
  return Math.min(contextWindowTokens, text + media + BASE_OVERHEAD_TOKENS + tools);
}

/** Whether the request asks for prompt caching, and with which lifetimes (cache writes cost more than input). */
export function cacheUse(request: Record<string, unknown>): { any: boolean; oneHour: boolean } {
  let any = false;
  let oneHour = false;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== "object") return;
    const block = value as Record<string, unknown>;
    const control = block.cache_control as { ttl?: unknown } | undefined;
    if (control && typeof control === "object") {
      any = true;
      if (control.ttl === "1h") oneHour = true;
    }
    for (const v of Object.values(block)) walk(v);
  };
  // The whole request: block-level markers, and a top-level `cache_control` (automatic caching).
  walk(request);
  return { any, oneHour };
}

/** The most `request` can cost on `model`: every input token at the dearest input-side rate it may use, `max_tokens` at the output rate. */
export function costBound(request: Record<string, unknown>, model: Pick<LlmModel, "price" | "contextWindowTokens">, maxTokens: number): CostBound {
  return costBoundFor(request, model, inputTokenBound(request, model.contextWindowTokens), maxTokens);
}

/** The same bound with the input known (counted by Bedrock's CountTokens): only the output remains a maximum. */
export function costBoundFor(request: Record<string, unknown>, model: Pick<LlmModel, "price">, inputTokens: number, maxTokens: number): CostBound {
  const rates = ratesFor(model.price, inputTokens);
  const cache = cacheUse(request);
  const inputRate = Math.max(rates.input, cache.any ? rates.cacheWrite5m : 0, cache.oneHour ? rates.cacheWrite1h : 0);
  return { inputTokens, outputTokens: maxTokens, nano: nanoOf(inputTokens, inputRate) + nanoOf(maxTokens, rates.output) };
}

/** What a call cost, from the usage the response reported. */
export function costOf(price: ModelPrice, usage: TokenUsage): number {
  const promptTokens = usage.inputTokens + usage.cacheCreationInputTokens + usage.cacheReadInputTokens;
  const rates = ratesFor(price, promptTokens);
  const oneHour = Math.min(usage.cacheCreation1hInputTokens, usage.cacheCreationInputTokens);
  return (
    nanoOf(usage.inputTokens, rates.input) +
    nanoOf(usage.cacheCreationInputTokens - oneHour, rates.cacheWrite5m) +
    nanoOf(oneHour, rates.cacheWrite1h) +
    nanoOf(usage.cacheReadInputTokens, rates.cacheRead) +
    nanoOf(usage.outputTokens, rates.output)
  );
}

/** Rates for a prompt of this size: past the long-context threshold every input-side rate scales with the input rate. */
function ratesFor(price: ModelPrice, promptTokens: number) {
  const long = price.longContext && promptTokens > price.longContext.aboveInputTokens ? price.longContext : undefined;
  const scale = long ? long.inputPerMTok / price.inputPerMTok : 1;
  return {
    input: long ? long.inputPerMTok : price.inputPerMTok,
    output: long ? long.outputPerMTok : price.outputPerMTok,
    cacheWrite5m: price.cacheWrite5mPerMTok * scale,
    cacheWrite1h: price.cacheWrite1hPerMTok * scale,
    cacheRead: price.cacheReadPerMTok * scale,
  };
}

/** tokens × USD per million tokens, in nano-USD (1 USD/MTok = 1,000 nano-USD per token), rounded up. */
function nanoOf(tokens: number, usdPerMTok: number): number {
  if (tokens <= 0) return 0;
  return Math.ceil(tokens * usdPerMTok * 1000 - 1e-6);
}
