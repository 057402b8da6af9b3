import { COMPUTE_NODE_ID_PATTERN, COMPUTE_NODE_ID_RULE, WORKFLOW_INSTANCE_ID_PATTERN, WORKFLOW_INSTANCE_ID_RULE } from "../../model/id-patterns";
import { TokenInputError } from "../../errors";

/**
 * The token contract (docs/asl-contract.md "Tokens", docs/security.md): each execution has its own
 * Secrets Manager secret whose SecretString is `{"sessionToken","refreshToken"}`. Before each
 * processor runs, the node's tokens function refreshes the session token when it is close to
 * expiry and, for an ECS processor, writes them to a per-execution environment file (S3, fetched
 * by the ECS agent; never through the state). A Lambda processor's ResolveToken then reads the
 * secret into its payload (the processor contract). Writers and readers share these helpers so the
 * format is defined once. Ships in Lambda bundles: no npm dependencies.
 */
export interface ExecutionTokens {
  sessionToken: string;
  refreshToken: string;
}

/** `cn/<node>/<workflowInstanceId>`: per execution, so deleting it revokes exactly one run's access. */
export function tokenSecretName(computeNodeId: string, workflowInstanceId: string): string {
  return `${tokenSecretPrefix(computeNodeId)}${workflowInstanceId}`;
}

/** `cn/<node>/`: what every token secret of a node's executions is named under (node cleanup lists them by it). */
export function tokenSecretPrefix(computeNodeId: string): string {
  return `cn/${computeNodeId}/`;
}

export function tokenSecretString(tokens: ExecutionTokens): string {
  if (typeof tokens.sessionToken !== "string" || typeof tokens.refreshToken !== "string") throw new TypeError("sessionToken and refreshToken must be strings");
  return JSON.stringify({ sessionToken: tokens.sessionToken, refreshToken: tokens.refreshToken });
}

/** What the secret holds; throws (without echoing the value) when it is malformed. */
export function readTokenSecret(secretString: string): ExecutionTokens {
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new TypeError("token secret is not JSON");
  }
  const v = value as Partial<ExecutionTokens> | null;
  if (!v || typeof v !== "object" || typeof v.sessionToken !== "string" || typeof v.refreshToken !== "string")
    throw new TypeError('token secret must be {"sessionToken": string, "refreshToken": string}');
  return { sessionToken: v.sessionToken, refreshToken: v.refreshToken };
}

/**
 * The tokens function's actions: refresh the secret before a Lambda processor's ResolveToken reads
 * it (`refresh`), or refresh and write an ECS processor's environment file (`env-file`). Neither
 * answers a token.
 */
export const TOKEN_ACTIONS = { refresh: "refresh", envFile: "env-file" } as const;

export interface TokensPayload {
  action: (typeof TOKEN_ACTIONS)[keyof typeof TOKEN_ACTIONS];
  computeNodeId: string;
  workflowInstanceId: string;
}

/** What the tokens function answers: whether it refreshed, and for `env-file` where the file is; never what it holds. */
export interface TokensResult {
  refreshed: boolean;
  envFile?: string;
}

/** Checks a tokens payload by hand (no npm dependencies); the ids name the secret and the file, so they must match the model's patterns. */
export function parseTokensPayload(raw: unknown): TokensPayload {
  const p = (typeof raw === "object" && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  if (p.action !== TOKEN_ACTIONS.refresh && p.action !== TOKEN_ACTIONS.envFile) throw new TokenInputError(`tokens payload: action must be "refresh" or "env-file", got ${JSON.stringify(p.action)}`, { field: "action" });
  if (typeof p.computeNodeId !== "string" || !COMPUTE_NODE_ID_PATTERN.test(p.computeNodeId))
    throw new TokenInputError(`tokens payload: computeNodeId ${JSON.stringify(p.computeNodeId)} is not a compute node id (${COMPUTE_NODE_ID_RULE})`, { field: "computeNodeId" });
  if (typeof p.workflowInstanceId !== "string" || !WORKFLOW_INSTANCE_ID_PATTERN.test(p.workflowInstanceId))
    throw new TokenInputError(`tokens payload: workflowInstanceId ${JSON.stringify(p.workflowInstanceId)} is not a workflow instance id (${WORKFLOW_INSTANCE_ID_RULE})`, { field: "workflowInstanceId" });
  return { action: p.action, computeNodeId: p.computeNodeId, workflowInstanceId: p.workflowInstanceId };
}

/** Where an execution's environment file lives in the node's env-file bucket; ECS requires the `.env` extension. */
export function envFileKey(computeNodeId: string, workflowInstanceId: string): string {
  return `${ENV_FILE_PREFIX}${computeNodeId}/${workflowInstanceId}.env`;
}

/** Every environment file is under this prefix: the task execution role may read it and nothing else of the bucket. */
export const ENV_FILE_PREFIX = "execution-env/";

/** The partition of a region (arn:aws, arn:aws-us-gov, arn:aws-cn). */
export function partitionOf(region: string): string {
  return region.startsWith("us-gov-") ? "aws-us-gov" : region.startsWith("cn-") ? "aws-cn" : "aws";
}

/** The object ARN that `ContainerOverrides[].EnvironmentFiles` names. */
export function envFileArn(bucket: string, region: string, computeNodeId: string, workflowInstanceId: string): string {
  return `arn:${partitionOf(region)}:s3:::${bucket}/${envFileKey(computeNodeId, workflowInstanceId)}`;
}

/**
 * The environment file: `NAME=VALUE` lines, which the ECS agent hands to the container like a
 * Docker env-file (no quoting, no escapes). A value with a line break or NUL would split or end it,
 * so such a token is refused rather than written.
 */
export function envFileText(tokens: ExecutionTokens): string {
  for (const [name, value] of [["SESSION_TOKEN", tokens.sessionToken], ["REFRESH_TOKEN", tokens.refreshToken]] as const)
    if (/[\r\n\0]/.test(value)) throw new TokenInputError(`the execution's ${name} holds a line break or NUL and cannot be written to an environment file`, { field: name });
  return `# Tokens of one workflow execution; deleted when it ends.\nSESSION_TOKEN=${tokens.sessionToken}\nREFRESH_TOKEN=${tokens.refreshToken}\n`;
}

/** Reads an environment file as the ECS agent does: `#` lines and blank lines skipped, the value is everything after the first `=`. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
