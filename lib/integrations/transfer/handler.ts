import { cleanupExecution, CleanupResult } from "./cleanup";
import { downloadInputs, DownloadInputsResult, localInputPath, RemoteFetcher } from "./download";
import { mergeInputs, MergeInputsResult } from "./merge";
import { parseTransferPayload, TransferPayload } from "./contract";
import { guardTransfer, GuardOptions, isInside } from "./guard";
import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { UnsafePathError } from "../../errors";

export type TransferResult =
  | ({ action: "download" } & DownloadInputsResult)
  | ({ action: "merge" } & MergeInputsResult)
  | ({ action: "cleanup" } & CleanupResult);

export interface TransferHandlerOptions extends GuardOptions {
  /** Copies remote inputs (S3 on AWS); local runs leave it out. */
  fetchRemote?: RemoteFetcher;
  /**
   * Directories a local input (a path or `file://` URL) may be in. The local runner names the
   * `--input` directory; the Lambda names none, so on AWS only remote inputs are downloaded (a local
   * path would let an execution input copy `/proc/self/environ` or another node's EFS data where
   * processors read). @default none
   */
  localInputRoots?: string[];
}

/**
 * Runs one data-transfer action; shared by the Lambda and the local runner so both behave the same.
 * Every payload passes {@link guardTransfer} first: nothing is touched for a payload it refuses.
 */
export async function handleTransfer(payload: unknown, options: TransferHandlerOptions): Promise<TransferResult> {
  const p = await guardTransfer(parseTransferPayload(payload), options);
  switch (p.action) {
    case "download": {
      const roots = await Promise.all((options.localInputRoots ?? []).map((root) => realpath(root).catch(() => resolve(root))));
      for (const [i, input] of p.inputs.entries()) {
        const local = localInputPath(input);
        if (local === undefined) continue;
        // Compared as real paths, so neither `..` nor a link inside a root leads out of it.
        const real = await realpath(local).catch(() => resolve(local));
        if (!roots.some((root) => isInside(root, real)))
          throw new UnsafePathError(`inputs[${i}]`, `${JSON.stringify(input)} is a local path${options.localInputRoots?.length ? ` outside ${options.localInputRoots.join(", ")}` : ""}: this runtime downloads only ${options.localInputRoots?.length ? "from there and " : ""}remote (s3://) inputs`);
      }
      return { action: "download", ...(await downloadInputs({ targetDir: p.targetDir, inputs: p.inputs, fetchRemote: options.fetchRemote })) };
    }
    case "merge":
      return { action: "merge", ...(await mergeInputs({ processorId: p.processorId, targetDir: p.targetDir, sources: p.sources, execution: { workdir: p.dirs.realWorkdir, inputDir: p.dirs.realInputDir } })) };
    case "cleanup":
      return { action: "cleanup", ...(await cleanupExecution(p)) };
  }
}

export { parseTransferPayload };
export type { TransferPayload };
