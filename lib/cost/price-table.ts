import { ValidationError } from "../errors";
import usEast1 from "./prices/us-east-1.json";
import usWest2 from "./prices/us-west-2.json";
import euWest1 from "./prices/eu-west-1.json";

/** The prices the cost model reads; each table (lib/cost/prices/<region>.json) must give every one. */
export const PRICE_KEYS = [
  "fargate.vcpuHour",
  "fargate.gbHour",
  "fargate.storageGbHour",
  "lambda.gbSecond",
  "lambda.request",
  "stepfunctions.transition",
  "logs.ingestionGb",
  "logs.storageGbMonth",
  "logs.vendedIngestionGb",
  "nat.hour",
  "nat.gb",
  "ipv4.hour",
  "endpoints.interfaceAzHour",
  "endpoints.gb",
  "kms.keyMonth",
  "kms.request",
  "efs.standardGbMonth",
  "efs.readGb",
  "efs.writeGb",
  "s3.standardGbMonth",
  "s3.glacierGbMonth",
  "secrets.secretMonth",
  "secrets.apiCall",
] as const;
export type PriceKey = (typeof PRICE_KEYS)[number];

/** The billing rules the model applies, beside the prices (they change rarely, but they are AWS's, not ours). */
export const RULE_KEYS = ["fargateMinimumSeconds", "fargateIncludedStorageGb", "lambdaGranularityMs", "logEventOverheadBytes", "hoursPerMonth"] as const;
export type RuleKey = (typeof RULE_KEYS)[number];

/** One price: `usd` per `per`, with where it was read and when. */
export interface Price {
  usd: number;
  /** The unit `usd` is for, e.g. `vCPU-hour`. */
  per: string;
  /** The figure as the source states it, e.g. `$0.025 per 1,000 state transitions`. */
  published: string;
  source: string;
  /** ISO date the source was checked. */
  checked: string;
  note?: string;
}

export interface PriceTable {
  region: string;
  /** The table's version, reported as `pricingVersion`: the date its prices were checked. */
  version: string;
  currency: "USD";
  description?: string;
  rules: Record<RuleKey, { value: number; source: string; note?: string }>;
  prices: Record<PriceKey, Price>;
}

/**
 * Checks a price table by hand (this module ships in the finalize Lambda, without zod): every price
 * and rule present, a non-negative number, with a source and a date. Returns every problem.
 */
export function priceTableProblems(raw: unknown, name = "price table"): string[] {
  const problems: string[] = [];
  const t = (raw ?? {}) as Record<string, unknown>;
  if (typeof t.region !== "string" || !t.region) problems.push(`${name}: "region" must be a region name`);
  if (typeof t.version !== "string" || !/^\d{4}-\d{2}-\d{2}/.test(t.version)) problems.push(`${name}: "version" must start with the ISO date the prices were checked`);
  if (t.currency !== "USD") problems.push(`${name}: "currency" must be "USD"`);
  const prices = (t.prices ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const key of PRICE_KEYS) {
    const p = prices[key];
    if (!p) {
      problems.push(`${name}: price "${key}" is missing`);
      continue;
    }
    if (typeof p.usd !== "number" || !Number.isFinite(p.usd) || p.usd < 0) problems.push(`${name}: price "${key}".usd must be a non-negative number`);
    for (const field of ["per", "published", "source", "checked"]) if (typeof p[field] !== "string" || !p[field]) problems.push(`${name}: price "${key}".${field} must be a non-empty string`);
    if (typeof p.source === "string" && !/^https:\/\//.test(p.source)) problems.push(`${name}: price "${key}".source must be an https URL`);
    if (typeof p.checked === "string" && !/^\d{4}-\d{2}-\d{2}$/.test(p.checked)) problems.push(`${name}: price "${key}".checked must be an ISO date (YYYY-MM-DD)`);
  }
  for (const key of Object.keys(prices)) if (!(PRICE_KEYS as readonly string[]).includes(key)) problems.push(`${name}: price "${key}" is not one the cost model reads (known: ${PRICE_KEYS.join(", ")})`);
  const rules = (t.rules ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const key of RULE_KEYS) {
    const r = rules[key];
    if (!r || typeof r.value !== "number" || !Number.isFinite(r.value) || r.value < 0) problems.push(`${name}: rule "${key}".value must be a non-negative number`);
    else if (typeof r.source !== "string" || !r.source) problems.push(`${name}: rule "${key}".source must name where it comes from`);
  }
  return problems;
}

/** The price tables in the repository, by region. */
export const PRICE_TABLES: Readonly<Record<string, PriceTable>> = Object.freeze(
  Object.fromEntries([usEast1, usWest2, euWest1].map((t) => [t.region, t as PriceTable])),
);

/** Regions with a price table. */
export const PRICED_REGIONS: readonly string[] = Object.keys(PRICE_TABLES).sort();

/** The price table of a region, or undefined when the repository has none. */
export function findPriceTable(region: string): PriceTable | undefined {
  return Object.prototype.hasOwnProperty.call(PRICE_TABLES, region) ? PRICE_TABLES[region] : undefined;
}

/** The price table of a region; a region without one is a ValidationError naming the priced regions. */
export function priceTableFor(region: string, path: (string | number)[] = ["region"]): PriceTable {
  const table = findPriceTable(region);
  if (table) return table;
  throw new ValidationError([
    {
      code: "unpriced_region",
      path,
      message: `no price table for region "${region}" (priced: ${PRICED_REGIONS.join(", ")}): use one of them, or add lib/cost/prices/${region}.json (docs/cost.md "Prices")`,
    },
  ]);
}
