/**
 * Every tag key compute-node writes, in one place: the node program, the runtime (task definitions,
 * functions, state machines, secrets) and the policy pack read them from here. Dependency-free, so
 * Lambda handlers and the policy pack can import it.
 *
 * `TAG.node` and `TAG.environment` are the cost-allocation tags (docs/node.md "Cost allocation");
 * activate them once per payer account and Cost Explorer groups spend by node and environment.
 */
export const TAG = {
  /** The compute node id: cost allocation, and how cleanup finds what the runtime created. */
  node: "compute-node:node",
  /** The node's environment (`dev`, `prod`…): cost allocation. */
  environment: "compute-node:environment",
  /** The deployment mode: the policy pack reads it when its config names none. */
  mode: "compute-node:mode",
  /** What an IAM role is for (`processor`, `state-machine`…): the processor-role policy reads it. */
  role: "compute-node:role",
  /** A subnet's tier, `public` or `private`. */
  tier: "compute-node:tier",
  /** The workflow that registered a runtime resource. */
  workflow: "compute-node:workflow",
  /** The workflow instance a per-execution resource (its token secret) belongs to. */
  execution: "compute-node:execution",
  /** Content fingerprint of a registered task definition or function: a second deploy changes nothing. */
  fingerprint: "compute-node:fingerprint",
  /** On the LLM governor: whether the operator acknowledged the AWS BAA covers Bedrock. */
  baaAcknowledged: "compute-node:baa-acknowledged",
} as const;

/** One tag per workflow that uses a shared runtime resource: `compute-node:wf:<hash of name>` = name. */
export const TAG_WORKFLOW_USE_PREFIX = "compute-node:wf:";

/** The tags every taggable resource of a node carries, whoever creates it. */
export const COST_ALLOCATION_TAG_KEYS = [TAG.node, TAG.environment] as const;

/** AWS caps tag values at 256 characters. */
const MAX_TAG_VALUE = 256;

export interface NodeTagsInput {
  computeNodeId: string;
  environment: string;
  /** The node config's own `tags`; compute-node's keys win over a user tag of the same key. */
  userTags?: Record<string, string>;
  /** Added as `compute-node:mode` when given (the node program's resources; the runtime's need none). */
  mode?: string;
}

/** The user's tags plus the cost-allocation tags (and the mode when given), values capped at AWS's 256 characters. */
export function nodeTags(input: NodeTagsInput): Record<string, string> {
  const tags: Record<string, string> = { ...(input.userTags ?? {}), [TAG.node]: input.computeNodeId, [TAG.environment]: input.environment };
  if (input.mode !== undefined) tags[TAG.mode] = input.mode;
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, v.slice(0, MAX_TAG_VALUE)]));
}

/** The cost-allocation keys a tag set lacks or leaves empty (map form, or the `[{key, value}]` list of an Auto Scaling group). */
export function missingCostAllocationTags(tags: unknown): string[] {
  const values = new Map<string, unknown>();
  if (Array.isArray(tags)) for (const t of tags) if (t && typeof t === "object") values.set(String((t as { key?: unknown }).key), (t as { value?: unknown }).value);
  if (tags && typeof tags === "object" && !Array.isArray(tags)) for (const [k, v] of Object.entries(tags)) values.set(k, v);
  return COST_ALLOCATION_TAG_KEYS.filter((key) => typeof values.get(key) !== "string" || values.get(key) === "");
}
