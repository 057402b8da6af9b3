import { ValidationError, ValidationIssue } from "../../errors";
import { DEFAULT_CALL_TIMEOUT_SECONDS, DEFAULT_LLM_BUDGETS, DEFAULT_RESERVATION_TTL_SECONDS, LlmBudgets, LlmModel, LlmSettings, ModelPrice } from "./contract";
import { PriceFile, loadPriceFiles, priceFileOf, shippedPrice, splitBedrockId } from "./prices";

/** A price the node's configuration sets (`llm.prices["<bedrock id>"]`); cache rates default to Anthropic's multipliers of the input rate. */
export interface LlmPriceOverride {
  inputPerMTok: number;
  outputPerMTok: number;
  /** @default 1.25 × inputPerMTok */
  cacheWrite5mPerMTok?: number;
  /** @default 2 × inputPerMTok */
  cacheWrite1hPerMTok?: number;
  /** @default 0.1 × inputPerMTok */
  cacheReadPerMTok?: number;
  /** @default the shipped model's, else 1,000,000 */
  contextWindowTokens?: number;
}

/** A node's LLM configuration (`llm` in stack config, `--config` of `llm serve`), already checked for shape. */
export interface LlmConfig {
  /** Anthropic id processors name → Bedrock model or inference-profile id. @default Claude Haiku 4.5 through the region's geographic profile (us-*, eu-*) */
  allowedModels?: Record<string, string>;
  budgets?: Partial<LlmBudgets>;
  /** Per Bedrock id (or its foundation-model id); wins over the shipped table. */
  prices?: Record<string, LlmPriceOverride>;
  /** @default 960 */
  reservationTtlSeconds?: number;
  /** @default 840 */
  callTimeoutSeconds?: number;
}

export interface ResolveLlmSettingsOptions {
  computeNodeId: string;
  region: string;
  /** @default the files in `lib/integrations/llm/prices/` */
  priceFiles?: PriceFile[];
  /** Prefix of issue paths. @default ["llm"] */
  path?: (string | number)[];
}

const DEFAULT_CONTEXT_WINDOW = 1_000_000;
const HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0";

/** The models a node allows when its configuration names none: Haiku 4.5 through the region's geographic profile, so requests stay in that geography. */
export function defaultAllowedModels(region: string): Record<string, string> | undefined {
  const geo = region.startsWith("us-") && !region.startsWith("us-gov-") ? "us" : region.startsWith("eu-") ? "eu" : undefined;
  return geo ? { "claude-haiku-4-5": `${geo}.${HAIKU}` } : undefined;
}

/** The Anthropic id a Bedrock id stands for: `us.anthropic.claude-haiku-4-5-20251001-v1:0` → `claude-haiku-4-5-20251001`. */
export function anthropicIdOf(bedrockModelId: string): string {
  const base = splitBedrockId(bedrockModelId)?.baseModelId ?? bedrockModelId;
  return base.replace(/^anthropic\./, "").replace(/-v\d+(:\d+)?$/, "");
}

/**
 * Resolves a node's LLM configuration for its region: every allowed model gets its price (the
 * configuration's, else the shipped table's for the region) and every budget its value. A model
 * without a price is an issue, never free; so is a region with no default model when none is named.
 */
export function resolveLlmSettings(config: LlmConfig, options: ResolveLlmSettingsOptions): LlmSettings {
  const path = options.path ?? ["llm"];
  const issues: ValidationIssue[] = [];
  const files = options.priceFiles ?? loadPriceFiles();
  const allowed = config.allowedModels ?? defaultAllowedModels(options.region);
  if (!allowed || Object.keys(allowed).length === 0) {
    issues.push({
      code: "no_models",
      path: [...path, "allowedModels"],
      message: `no model is allowed and region ${options.region} has no default; name one, e.g. {"claude-haiku-4-5": "global.${HAIKU}"}`,
    });
    throw new ValidationError(issues);
  }
  const models: LlmModel[] = [];
  for (const [id, bedrockModelId] of Object.entries(allowed)) {
    const file = priceFileOf(files, bedrockModelId);
    const price = priceOf(config.prices ?? {}, files, bedrockModelId, options.region);
    if (!price) {
      const known = files.filter((f) => f.regions.includes(options.region)).map((f) => f.bedrockModelId);
      issues.push({
        code: "model_without_price",
        path: [...path, "allowedModels", id],
        message:
          `"${bedrockModelId}" has no price for ${options.region}, and a model without a price is refused, never free: ` +
          `add llm.prices["${bedrockModelId}"] = {"inputPerMTok": …, "outputPerMTok": …}` +
          (known.length ? ` (the shipped table prices ${known.join(", ")} there)` : ` (the shipped table has no model in ${options.region})`),
      });
      continue;
    }
    const override = config.prices?.[bedrockModelId] ?? (splitBedrockId(bedrockModelId) ? config.prices?.[splitBedrockId(bedrockModelId)!.baseModelId] : undefined);
    models.push({
      id,
      bedrockModelId,
      displayName: file?.displayName ?? id,
      contextWindowTokens: override?.contextWindowTokens ?? file?.contextWindowTokens ?? DEFAULT_CONTEXT_WINDOW,
      price,
    });
  }
  if (issues.length) throw new ValidationError(issues);
  const budgets: LlmBudgets = { ...DEFAULT_LLM_BUDGETS, ...definedOnly(config.budgets ?? {}) };
  const callTimeoutSeconds = config.callTimeoutSeconds ?? DEFAULT_CALL_TIMEOUT_SECONDS;
  const reservationTtlSeconds = config.reservationTtlSeconds ?? Math.max(DEFAULT_RESERVATION_TTL_SECONDS, callTimeoutSeconds + 120);
  if (reservationTtlSeconds <= callTimeoutSeconds)
    throw new ValidationError([
      { code: "reservation_ttl_too_short", path: [...path, "reservationTtlSeconds"], message: `must be longer than callTimeoutSeconds (${callTimeoutSeconds}), or live calls would lose their reservation` },
    ]);
  return { computeNodeId: options.computeNodeId, region: options.region, models, budgets, reservationTtlSeconds, callTimeoutSeconds };
}

/** The problems resolveLlmSettings would throw, as issues (empty when the configuration resolves). */
export function llmSettingsIssues(config: LlmConfig, options: ResolveLlmSettingsOptions): ValidationIssue[] {
  try {
    resolveLlmSettings(config, options);
    return [];
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
}

function priceOf(overrides: Record<string, LlmPriceOverride>, files: PriceFile[], bedrockModelId: string, region: string): ModelPrice | undefined {
  const base = splitBedrockId(bedrockModelId)?.baseModelId;
  const override = overrides[bedrockModelId] ?? (base ? overrides[base] : undefined);
  if (override)
    return {
      inputPerMTok: override.inputPerMTok,
      outputPerMTok: override.outputPerMTok,
      cacheWrite5mPerMTok: override.cacheWrite5mPerMTok ?? round(override.inputPerMTok * 1.25),
      cacheWrite1hPerMTok: override.cacheWrite1hPerMTok ?? round(override.inputPerMTok * 2),
      cacheReadPerMTok: override.cacheReadPerMTok ?? round(override.inputPerMTok * 0.1),
      source: "config",
      retrieved: "config",
    };
  return shippedPrice(files, bedrockModelId, region)?.price;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;
