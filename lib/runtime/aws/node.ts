import { createHash } from "node:crypto";
import { NodeOutputs, NodeOutputsSchema } from "../../model/node-outputs";
import { parseOrThrow } from "../../model/validate";
import { ValidationError } from "../../errors";
import { ANTHROPIC_BASE_URL_ENV, LLM_FUNCTION_ENV } from "../../integrations/llm/contract";
import { TAG, TAG_WORKFLOW_USE_PREFIX, nodeTags } from "../../model/tags";

/** Parses a node's stack outputs (NODE.json); a missing or malformed key is a ValidationError naming it. */
export function parseNodeOutputs(value: unknown): NodeOutputs {
  return parseOrThrow(NodeOutputsSchema, value, ["node"]);
}

/** The account id of the node, read from its state machine role ARN (`arn:aws:iam::<account>:role/…`). */
export function nodeAccount(node: NodeOutputs): string {
  const account = node.stateMachineRoleArn.split(":")[4];
  if (!account || !/^\d{12}$/.test(account))
    throw new ValidationError([{ code: "invalid_arn", path: ["node", "stateMachineRoleArn"], message: `"${node.stateMachineRoleArn}" is not an IAM role ARN with a 12-digit account id` }]);
  return account;
}

/** The node's ARN partition (`aws`, `aws-cn`, `aws-us-gov`), read from its state machine role ARN. */
export function nodePartition(node: NodeOutputs): string {
  const partition = node.stateMachineRoleArn.split(":")[1];
  if (!partition || !/^aws(-[a-z-]+)?$/.test(partition))
    throw new ValidationError([{ code: "invalid_arn", path: ["node", "stateMachineRoleArn"], message: `"${node.stateMachineRoleArn}" is not an IAM role ARN (arn:<partition>:iam::<account>:role/…)` }]);
  return partition;
}

/** The seed's static processor environment (processor-guide section 3), the same on ECS and Lambda. */
export function staticEnvironment(node: NodeOutputs): Record<string, string> {
  const extra = node as Record<string, unknown>;
  const str = (key: string, fallback: string) => (typeof extra[key] === "string" && extra[key] ? (extra[key] as string) : fallback);
  return {
    PENNSIEVE_API_HOST: str("pennsieveApiHost", "https://api.pennsieve.net"),
    PENNSIEVE_API_HOST2: str("pennsieveApiHost2", "https://api2.pennsieve.net"),
    ENVIRONMENT: node.environment ?? "dev",
    REGION: node.region,
    DEPLOYMENT_MODE: node.deploymentMode,
    // A node with LLM access: the governed Messages API (docs/llm.md); no Bedrock permission comes with it.
    ...(node.llmBaseUrl ? { [ANTHROPIC_BASE_URL_ENV]: node.llmBaseUrl } : {}),
    ...(node.llmGovernorFunctionArn ? { [LLM_FUNCTION_ENV]: node.llmGovernorFunctionArn } : {}),
  };
}

export const TAG_NODE = TAG.node;
export const TAG_WORKFLOW = TAG.workflow;
export { TAG_WORKFLOW_USE_PREFIX };

export function workflowUseTag(workflowName: string): string {
  return `${TAG_WORKFLOW_USE_PREFIX}${createHash("sha256").update(workflowName).digest("hex").slice(0, 16)}`;
}

/**
 * The user's tags of the node (stack output `tags`, when the node exports it), each a string; anything
 * else in that output is ignored rather than sent to AWS, which would refuse the whole call.
 */
export function nodeUserTags(node: NodeOutputs): Record<string, string> {
  const raw = (node as Record<string, unknown>).tags;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === "string" && !e[0].startsWith("aws:")));
}

/**
 * Tags every resource the runtime registers for a workflow carries: the node's cost-allocation tags
 * (node, environment) and its user tags, then the workflow's; values capped at AWS's 256 characters.
 */
export function resourceTags(node: NodeOutputs, workflowName: string): Record<string, string> {
  const name = workflowName.slice(0, 256);
  return { ...nodeTags({ computeNodeId: node.computeNodeId, environment: node.environment ?? "dev", userTags: nodeUserTags(node) }), [TAG_WORKFLOW]: name, [workflowUseTag(workflowName)]: name };
}

/** Canonical JSON (sorted keys) for content comparison. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}
