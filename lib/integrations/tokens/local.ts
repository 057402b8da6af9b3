import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { RunContext } from "../../runtime/local/context";
import { TaskError } from "../../runtime/local/task-error";

/**
 * `secretsmanager:getSecretValue` against the per-execution token file the runner wrote (0600).
 * Only that file can be read: any other SecretId is refused, so a machine cannot read arbitrary files.
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
