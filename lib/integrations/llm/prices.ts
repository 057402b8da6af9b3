import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelPrice } from "./contract";
// Imported, not read from the folder: tsc copies imported JSON into dist/, and the governor's Lambda
// archive ships what its entry imports; a directory listing finds neither.
import claudeHaiku45 from "./prices/claude-haiku-4-5.json";
import claudeOpus45 from "./prices/claude-opus-4-5.json";
import claudeOpus46 from "./prices/claude-opus-4-6.json";
import claudeSonnet45 from "./prices/claude-sonnet-4-5.json";
import claudeSonnet46 from "./prices/claude-sonnet-4-6.json";

/** One shipped price file (`prices/<model>.json`): a model's list prices in the regions it names. */
export interface PriceFile {
  /** The Anthropic id (`claude-haiku-4-5`), also the file's name. */
  model: string;
  displayName: string;
  /** The Bedrock foundation-model id, without an inference-profile prefix. */
  bedrockModelId: string;
  /** Input tokens a request may hold; bounds what a call can cost. */
  contextWindowTokens?: number;
  source: string;
  retrieved: string;
  regions: string[];
  endpoints: Record<EndpointKind, Omit<ModelPrice, "source" | "retrieved">>;
}

/** Global cross-Region profiles bill at the global rate; geographic profiles and in-Region ids at the regional rate. */
export type EndpointKind = "global" | "regional";

/** Every file of the slice's `prices/` folder (a test checks none is left out). */
export const SHIPPED_PRICE_FILES: readonly PriceFile[] = [claudeHaiku45, claudeOpus45, claudeOpus46, claudeSonnet45, claudeSonnet46] as PriceFile[];
const PROFILE_PREFIX = /^(global|us|us-gov|eu|apac|jp|au|ca)\.(.+)$/;

/** The shipped price files, or those of another folder of `<model>.json` files. */
export function loadPriceFiles(dir?: string): PriceFile[] {
  if (dir === undefined) return [...SHIPPED_PRICE_FILES].sort((a, b) => a.model.localeCompare(b.model));
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as PriceFile);
}

/** `us.anthropic.claude-…` → the foundation model and how Bedrock bills the profile. ARNs (application profiles) have no base id. */
export function splitBedrockId(bedrockModelId: string): { baseModelId: string; endpoint: EndpointKind } | undefined {
  if (bedrockModelId.startsWith("arn:")) return undefined;
  const match = PROFILE_PREFIX.exec(bedrockModelId);
  if (!match) return { baseModelId: bedrockModelId, endpoint: "regional" };
  return { baseModelId: match[2], endpoint: match[1] === "global" ? "global" : "regional" };
}

/** The shipped price of a Bedrock id in a region, or undefined when the table has none. */
export function shippedPrice(files: PriceFile[], bedrockModelId: string, region: string): { price: ModelPrice; file: PriceFile } | undefined {
  const split = splitBedrockId(bedrockModelId);
  if (!split) return undefined;
  const file = files.find((f) => f.bedrockModelId === split.baseModelId);
  if (!file || !file.regions.includes(region)) return undefined;
  const rates = file.endpoints[split.endpoint];
  if (!rates) return undefined;
  return { price: { ...rates, source: file.source, retrieved: file.retrieved }, file };
}

/** The price file whose model is `bedrockModelId`'s foundation model (for display names and context windows). */
export function priceFileOf(files: PriceFile[], bedrockModelId: string): PriceFile | undefined {
  const split = splitBedrockId(bedrockModelId);
  return split ? files.find((f) => f.bedrockModelId === split.baseModelId) : undefined;
}
