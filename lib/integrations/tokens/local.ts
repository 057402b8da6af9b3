import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { RunContext } from "../../runtime/local/context";
import { lambdaError, TaskError } from "../../runtime/local/task-error";
import { ENV_FILE_PREFIX, envFileText, parseEnvFile, parseTokensPayload, readTokenSecret, tokenSecretString, TOKEN_ACTIONS } from "./contract";
import { keepFresh } from "./refresh";

export type { RefreshSessionToken } from "./refresh";
export { parseEnvFile };

/**
 * `secretsmanager:getSecretValue` (a Lambda processor's ResolveToken) against the per-execution
 * token file the runner wrote (0600). Only that file can be read: any other SecretId is refused,
 * so a machine cannot read arbitrary files.
 */
export function resolveTokenHandler(ctx: RunContext) {
  return async (input: unknown) => {
    const secretId = (input as { SecretId?: unknown } | null)?.SecretId;
    if (typeof secretId !== "string" || resolve(secretId) !== ctx.secretFile)
      throw new TaskError("SecretsManager.ResourceNotFoundException", `Secrets Manager can't find the specified secret (${typeof secretId === "string" ? "not this execution's token secret" : "no SecretId"}).`);
    const secretString = await readFile(ctx.secretFile, "utf8");
    return { ARN: `arn:aws:secretsmanager:local:000000000000:secret:${ctx.executionId}`, Name: ctx.executionId, SecretString: secretString, VersionId: "local", VersionStages: ["AWSCURRENT"] };
  };
}

/**
 * The node's tokens function, run in-process: the same refresh rule as the Lambda (when the run
 * has a refresher), the token file standing in for the secret, and the execution's environment
 * file written (0600) beside it for the ECS processor handler to read, as the ECS agent reads the
 * S3 object. Only this execution's ids are served.
 */
export async function localTokensFunction(ctx: RunContext, payload: unknown): Promise<unknown> {
  try {
    const p = parseTokensPayload(payload);
    if (p.computeNodeId !== ctx.layout.computeNodeId || p.workflowInstanceId !== ctx.workflowInstanceId)
      throw new TaskError("TokenInputError", { errorType: "TokenInputError", errorMessage: `tokens payload names ${p.computeNodeId}/${p.workflowInstanceId}; this run is ${ctx.layout.computeNodeId}/${ctx.workflowInstanceId}` });
    const fresh = await keepFresh(readTokenSecret(await readFile(ctx.secretFile, "utf8")), { now: ctx.now, refresh: ctx.refreshTokens });
    if (fresh.refreshed) await writeFile(ctx.secretFile, tokenSecretString(fresh.tokens), { mode: 0o600 });
    if (p.action === TOKEN_ACTIONS.refresh) return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: { refreshed: fresh.refreshed } };
    await writeFile(ctx.envFile, envFileText(fresh.tokens), { mode: 0o600 });
    return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: { refreshed: fresh.refreshed, envFile: localEnvFileArn(ctx) } };
  } catch (err) {
    if (err instanceof TaskError) throw err;
    throw lambdaError(err);
  }
}

/** The object ARN the compiled machine names for this execution (any bucket: the local runner has one stand-in file). */
function localEnvFileArn(ctx: RunContext): string {
  return `arn:aws:s3:::local/${ENV_FILE_PREFIX}${ctx.layout.computeNodeId}/${ctx.workflowInstanceId}.env`;
}

/**
 * What an ECS container would get from `EnvironmentFiles`: the file of this execution only
 * (`…/execution-env/{node}/{workflowInstanceId}.env` in any bucket); another object, or a file
 * not written yet, fails the task as the ECS agent does (ResourceInitializationError).
 */
export async function readLocalEnvFiles(ctx: RunContext, files: { Type?: string; Value?: string }[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const own = new RegExp(`^arn:[\\w-]+:s3:::[a-z0-9.-]+/${escapeRegExp(`${ENV_FILE_PREFIX}${ctx.layout.computeNodeId}/${ctx.workflowInstanceId}.env`)}$`);
  for (const file of files) {
    if (file.Type !== "s3" || typeof file.Value !== "string" || !own.test(file.Value))
      throw new TaskError("States.TaskFailed", `ResourceInitializationError: failed to download env files: ${JSON.stringify(file.Value)} is not this execution's environment file`);
    let text: string;
    try {
      text = await readFile(ctx.envFile, "utf8");
    } catch {
      throw new TaskError("States.TaskFailed", `ResourceInitializationError: failed to download env files: ${file.Value} does not exist (no env-file step ran before the task)`);
    }
    Object.assign(out, parseEnvFile(text));
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
