import { S3Client } from "@aws-sdk/client-s3";
import { handleTransfer, TransferResult } from "./handler";
import { S3Sender, s3Fetcher } from "./s3-fetch";

export interface DataTransferHandlerOptions {
  /** @default an S3Client for the function's region (AWS_ENDPOINT_URL is honoured by the SDK) */
  s3?: S3Sender;
}

/**
 * The data-transfer Lambda (docs/asl-contract.md "Data-transfer payloads"): download S3 inputs to
 * EFS, merge upstream outputs into one INPUT_DIR by symlinks (failing with `MergeCollision` on a
 * shared file name), and remove an execution's temporary directories. Errors keep their `name`,
 * which Lambda reports as the error type the state machine sees.
 */
export function createDataTransferHandler(options: DataTransferHandlerOptions = {}): (event: unknown) => Promise<TransferResult> {
  let s3 = options.s3;
  return async (event) => {
    s3 ??= new S3Client({});
    return handleTransfer(event, { fetchRemote: s3Fetcher(s3) });
  };
}

export const handler = createDataTransferHandler();
