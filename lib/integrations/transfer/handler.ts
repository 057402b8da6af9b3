import { cleanupExecution, CleanupResult } from "./cleanup";
import { downloadInputs, DownloadInputsResult, RemoteFetcher } from "./download";
import { mergeInputs, MergeInputsResult } from "./merge";
import { parseTransferPayload, TransferPayload } from "./contract";

export type TransferResult =
  | ({ action: "download" } & DownloadInputsResult)
  | ({ action: "merge" } & MergeInputsResult)
  | ({ action: "cleanup" } & CleanupResult);

export interface TransferHandlerOptions {
  /** Copies remote inputs (S3 on AWS); local runs leave it out. */
  fetchRemote?: RemoteFetcher;
}

/** Runs one data-transfer action; shared by the Lambda and the local runner so both behave the same. */
export async function handleTransfer(payload: unknown, options: TransferHandlerOptions = {}): Promise<TransferResult> {
  const p = parseTransferPayload(payload);
  switch (p.action) {
    case "download":
      return { action: "download", ...(await downloadInputs({ targetDir: p.targetDir, inputs: p.inputs, fetchRemote: options.fetchRemote })) };
    case "merge":
      return { action: "merge", ...(await mergeInputs(p)) };
    case "cleanup":
      return { action: "cleanup", ...(await cleanupExecution(p)) };
  }
}

export { parseTransferPayload };
export type { TransferPayload };
