import { S3Client } from "@aws-sdk/client-s3";
import { handleTransfer, TransferResult } from "./handler";
import { S3Sender, s3Fetcher } from "./s3-fetch";
import { DEFAULT_EFS_MOUNT_PATH } from "./contract";

export interface DataTransferHandlerOptions {
  /** Where EFS is mounted; every path of every payload must be that execution's directory below it. @default EFS_MOUNT_PATH, else "/mnt/efs" */
  efsMountPath?: string;
  /** The node this function serves: payloads naming another node are refused. @default COMPUTE_NODE_ID, else any node */
  computeNodeId?: string;
  /** @default an S3Client for the function's region (AWS_ENDPOINT_URL is honoured by the SDK) */
  s3?: S3Sender;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * The data-transfer Lambda (docs/asl-contract.md "Data-transfer payloads"): download S3 inputs to
 * EFS, merge upstream outputs into one INPUT_DIR by symlinks (failing with `MergeCollision` on a
 * shared file name, `UnsafeSymlink` on a link leaving the execution), upload the sink processors'
 * outputs to an `s3://` destination (`UploadFailed` when S3 refuses), and remove an execution's
 * temporary directories. Every payload is checked against the execution it names before anything
 * is touched (docs/security.md). Errors keep their `name`, which Lambda reports as the error type
 * the state machine sees.
 */
export function createDataTransferHandler(options: DataTransferHandlerOptions = {}): (event: unknown) => Promise<TransferResult> {
  const env = options.env ?? process.env;
  const efsMountPath = options.efsMountPath ?? (env.EFS_MOUNT_PATH || DEFAULT_EFS_MOUNT_PATH);
  const computeNodeId = options.computeNodeId ?? (env.COMPUTE_NODE_ID || undefined);
  let s3 = options.s3;
  return async (event) => {
    s3 ??= new S3Client({});
    // The same client downloads inputs and uploads results; no local directory is an upload destination here.
    return handleTransfer(event, { efsMountPath, computeNodeId, fetchRemote: s3Fetcher(s3), outputS3: s3 });
  };
}

export type { TransferResult };

export const handler = createDataTransferHandler();
