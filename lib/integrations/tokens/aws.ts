import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { envFileKey } from "./contract";

export interface DeleteEnvFileOptions {
  /** Runs the call within a rate budget (the AWS runtime passes its limiter). @default the call as is */
  limit?: <T>(call: () => Promise<T>) => Promise<T>;
}

/**
 * The one place an execution's environment file (its ECS processors' tokens) is deleted: by the
 * finalize Lambda when the run ends, by tracking when it sees the run ended, and by a start that
 * failed. The bucket is unversioned, so no copy remains. S3 answers the same whether the object
 * existed or not; any failure rejects with the SDK's error, for the caller to wrap or tolerate.
 * Ships in the finalize Lambda's bundle: imports @aws-sdk/* and repository files only.
 */
export async function deleteEnvFile(s3: Pick<S3Client, "send">, bucket: string, ids: { computeNodeId: string; workflowInstanceId: string }, options: DeleteEnvFileOptions = {}): Promise<void> {
  const limit = options.limit ?? ((call) => call());
  await limit(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: envFileKey(ids.computeNodeId, ids.workflowInstanceId) })));
}
