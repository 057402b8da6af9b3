import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DeleteSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { isNotFound } from "../../runtime/aws/errors";
import { envFileKey } from "./contract";

/*
 * The AWS calls that revoke an execution's tokens, shared by the finalize Lambda and lib/runtime/aws
 * (start, tracking, cleanup). Ships in the finalize Lambda's bundle: imports @aws-sdk/* and
 * repository files only.
 */

export interface RateLimitedOptions {
  /**
   * Runs the call within a rate budget (the AWS runtime passes its `limits.run("<service>:<Operation>", …)`).
   * @default the call as is (the finalize Lambda makes one per execution)
   */
  limit?: <T>(call: () => Promise<T>) => Promise<T>;
}

export type DeleteTokenSecretOptions = RateLimitedOptions;
export type DeleteEnvFileOptions = RateLimitedOptions;

/**
 * The one place an execution's token secret is deleted: by the finalize Lambda when the run ends,
 * by tracking when it sees the run ended, by a start that failed, and by node cleanup. At once, with
 * no recovery window, so a run's tokens do not outlive it. Resolves `absent` when the secret was
 * already gone; any other failure rejects with the SDK's error, for the caller to wrap or tolerate.
 */
export async function deleteTokenSecret(secrets: Pick<SecretsManagerClient, "send">, secretId: string, options: DeleteTokenSecretOptions = {}): Promise<"deleted" | "absent"> {
  const limit = options.limit ?? ((call) => call());
  try {
    await limit(() => secrets.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true })));
    return "deleted";
  } catch (err) {
    if (isNotFound(err)) return "absent";
    throw err;
  }
}

/**
 * The one place an execution's environment file (its ECS processors' tokens) is deleted: by the
 * finalize Lambda when the run ends, by tracking when it sees the run ended, and by a start that
 * failed. The bucket is unversioned, so no copy remains. S3 answers the same whether the object
 * existed or not; any failure rejects with the SDK's error, for the caller to wrap or tolerate.
 */
export async function deleteEnvFile(s3: Pick<S3Client, "send">, bucket: string, ids: { computeNodeId: string; workflowInstanceId: string }, options: DeleteEnvFileOptions = {}): Promise<void> {
  const limit = options.limit ?? ((call) => call());
  await limit(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: envFileKey(ids.computeNodeId, ids.workflowInstanceId) })));
}
