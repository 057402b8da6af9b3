import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { TokenInputError } from "../../errors";
import { envFileArn, envFileKey, envFileText, parseTokensPayload, readTokenSecret, tokenSecretName, tokenSecretString, TOKEN_ACTIONS, TokensResult } from "./contract";
import { keepFresh, RefreshSessionToken } from "./refresh";
import { cognitoRefresher } from "./cognito";
import { systemClock } from "../../clock";

export interface TokensHandlerOptions {
  secrets?: Pick<SecretsManagerClient, "send">;
  s3?: Pick<S3Client, "send">;
  /** The Cognito client refreshes go through when COGNITO_CLIENT_ID is set. @default a client for COGNITO_REGION */
  cognito?: Pick<CognitoIdentityProviderClient, "send">;
  /** @default Cognito's InitiateAuth when COGNITO_REGION and COGNITO_CLIENT_ID are set, else no refresh */
  refresh?: RefreshSessionToken;
  /** COMPUTE_NODE_ID, ENV_FILE_BUCKET, AWS_REGION, COGNITO_REGION, COGNITO_CLIENT_ID. @default process.env */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Where a warning goes (a refresh that failed while the old token was still valid); never a token. @default console.warn */
  warn?: (message: string) => void;
}

/**
 * The node's tokens function, called before each processor runs (docs/security.md). It reads the
 * execution's secret and refreshes the session token through the node's Cognito app client when
 * it expires within 15 minutes, writing the new tokens back (`refresh`, before a Lambda
 * processor's ResolveToken reads the secret into its payload). For an ECS processor (`env-file`)
 * it then writes them to the execution's environment file, which the ECS agent fetches with the
 * task execution role, so no token passes through the state. It never answers a token. The
 * secret and the file are named by the payload's ids, which must match the model's patterns, and
 * only for the node this function serves.
 */
export function createTokensHandler(options: TokensHandlerOptions = {}): (event: unknown) => Promise<TokensResult> {
  const env = options.env ?? process.env;
  const now = options.now ?? systemClock;
  const warn = options.warn ?? ((message: string) => console.warn(message));
  let secrets = options.secrets;
  let s3 = options.s3;
  let refresh = options.refresh;
  return async (event) => {
    const payload = parseTokensPayload(event);
    const node = env.COMPUTE_NODE_ID;
    if (node && payload.computeNodeId !== node) throw new TokenInputError(`tokens payload names node "${payload.computeNodeId}"; this function serves node "${node}"`, { field: "computeNodeId" });
    secrets ??= new SecretsManagerClient({});
    if (!refresh && env.COGNITO_CLIENT_ID && (options.cognito || env.COGNITO_REGION))
      refresh = cognitoRefresher(options.cognito ?? new CognitoIdentityProviderClient({ region: env.COGNITO_REGION }), env.COGNITO_CLIENT_ID);
    const secretId = tokenSecretName(payload.computeNodeId, payload.workflowInstanceId);
    const stored = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    const current = readTokenSecret(stored.SecretString ?? "");
    const fresh = await keepFresh(current, { now, refresh });
    if (fresh.warning) warn(`execution ${payload.workflowInstanceId}: ${fresh.warning}`);
    if (fresh.refreshed) await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: tokenSecretString(fresh.tokens) }));
    if (payload.action === TOKEN_ACTIONS.refresh) return { refreshed: fresh.refreshed };

    const bucket = env.ENV_FILE_BUCKET;
    if (!bucket) throw new TokenInputError("the tokens function needs the ENV_FILE_BUCKET environment variable to write ECS environment files");
    s3 ??= new S3Client({});
    // No ServerSideEncryption here: the bucket's default applies (the node's KMS key in secure and compliant modes).
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: envFileKey(payload.computeNodeId, payload.workflowInstanceId), Body: envFileText(fresh.tokens), ContentType: "text/plain; charset=utf-8" }));
    return { refreshed: fresh.refreshed, envFile: envFileArn(bucket, env.AWS_REGION ?? "us-east-1", payload.computeNodeId, payload.workflowInstanceId) };
  };
}

export const handler = createTokensHandler();
