/**
 * The ResolveToken contract (docs/asl-contract.md "Tokens"): each execution has its own Secrets
 * Manager secret whose SecretString is `{"sessionToken","refreshToken"}`; the machine's ResolveToken
 * state reads it with `States.StringToJson`. Writers and readers share these helpers so the format
 * is defined once. Ships in the Lambda bundle: node builtins only.
 */
export interface ExecutionTokens {
  sessionToken: string;
  refreshToken: string;
}

/** `cn/<node>/<workflowInstanceId>`: per execution, so deleting it revokes exactly one run's access. */
export function tokenSecretName(computeNodeId: string, workflowInstanceId: string): string {
  return `cn/${computeNodeId}/${workflowInstanceId}`;
}

export function tokenSecretString(tokens: ExecutionTokens): string {
  if (typeof tokens.sessionToken !== "string" || typeof tokens.refreshToken !== "string") throw new TypeError("sessionToken and refreshToken must be strings");
  return JSON.stringify({ sessionToken: tokens.sessionToken, refreshToken: tokens.refreshToken });
}

/** What ResolveToken yields from a SecretString; throws (without echoing the value) when it is malformed. */
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
