import { NodeConfig, NodeConfigSchema, parseNodeConfig } from "./config";

/** What the program needs of `pulumi.Config`: a raw string per key. */
export interface StackConfigSource {
  get(key: string): string | undefined;
}

/**
 * Reads the node's stack config (namespace `compute-node`, docs/node.md) and validates it; errors
 * name the key as `compute-node.<key>`. `awsRegion` (the `aws:region` config) fills a missing region.
 */
export function readStackConfig(config: StackConfigSource, awsRegion?: string): NodeConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(NodeConfigSchema.shape)) {
    const text = config.get(key);
    if (text !== undefined) raw[key] = configValue(key, text);
  }
  if (raw.region === undefined && awsRegion) raw.region = awsRegion;
  return parseNodeConfig(raw, ["compute-node"]);
}

const NON_STRING_KEYS = new Set(["availabilityZones", "gpu", "enableLLMAccess", "baaAcknowledged", "llm", "budget", "inputBucketArns", "outputBucketArns", "forceDestroy", "tags"]);

// `pulumi config set` stores text; objects (also from --path), lists, booleans and numbers arrive as JSON.
// Only keys the schema types as non-strings are parsed, so an id such as "007" stays a string.
function configValue(key: string, text: string): unknown {
  if (!NON_STRING_KEYS.has(key)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
