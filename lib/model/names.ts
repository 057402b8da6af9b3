import { createHash } from "node:crypto";

const sha = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

/** Lambda function names: at most 64 characters of `[A-Za-z0-9_-]`. */
export const LAMBDA_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

// "proc-lambda-" (12) + node part + "-" + 12-char image hash must fit 64.
const MAX_NODE_PART = 64 - "proc-lambda-".length - 1 - 12;

/**
 * The node id as it may appear inside resource names: kept as is when it is short and valid,
 * otherwise a readable prefix plus a hash of the full id, so two different node ids never share a part.
 * A kept id never contains "--", and every shortened part does, so the two kinds cannot meet.
 */
export function nodeNamePart(computeNodeId: string, maxLength = MAX_NODE_PART): string {
  if (/^[A-Za-z0-9_-]+$/.test(computeNodeId) && computeNodeId.length <= maxLength && !computeNodeId.includes("--")) return computeNodeId;
  const readable = computeNodeId.replace(/[^A-Za-z0-9_]+/g, "_").slice(0, maxLength - 10);
  return `${readable}--${sha(computeNodeId, 8)}`;
}

/** `proc-lambda-{nodeIdentifier}-{imageHash}`: one function per node and image, reused across runs (processor-guide section 7). */
export function lambdaFunctionName(computeNodeId: string, image: string): string {
  const name = `proc-lambda-${nodeNamePart(computeNodeId)}-${sha(image, 12)}`;
  if (!LAMBDA_NAME_PATTERN.test(name)) throw new Error(`internal: generated Lambda name "${name}" breaks Lambda's naming rule`);
  return name;
}

/** Prefix shared by every Lambda processor function of a node: what node cleanup lists and deletes. */
export function lambdaFunctionPrefix(computeNodeId: string): string {
  return `proc-lambda-${nodeNamePart(computeNodeId)}-`;
}

/** ECS task definition family of a node for one image and resource configuration (content-addressed). */
export function taskDefinitionFamily(computeNodeId: string, config: { image: string; cpu: number; memory: number; ephemeralStorage: number; gpu: number; commandArguments: string[] }): string {
  const key = JSON.stringify([config.image, config.cpu, config.memory, config.ephemeralStorage, config.gpu, config.commandArguments]);
  return `${taskDefinitionPrefix(computeNodeId)}${sha(key, 16)}`;
}

export function taskDefinitionPrefix(computeNodeId: string): string {
  return `cn-${nodeNamePart(computeNodeId, 200)}-`;
}

/** State machine name of a workflow on a node (Step Functions: at most 80 characters). */
export function stateMachineName(computeNodeId: string, workflowName: string, child?: string): string {
  const base = `cn-${nodeNamePart(computeNodeId, 30)}-${workflowName.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 20)}-${sha(workflowName, 8)}`;
  return child ? `${base}-${child.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 80 - base.length - 1)}` : base;
}

export function stateMachinePrefix(computeNodeId: string): string {
  return `cn-${nodeNamePart(computeNodeId, 30)}-`;
}
