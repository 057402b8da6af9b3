import { cleanupExecution, CleanupResult } from "./cleanup";
import { downloadInputs, DownloadInputsResult, localInputPath, RemoteFetcher } from "./download";
import { mergeInputs, MergeInputsResult } from "./merge";
import { uploadOutputs, UploadResult, UploadTuning } from "./upload";
import { S3Sender } from "./s3-fetch";
import { parseTransferPayload, TransferPayload } from "./contract";
import { guardTransfer, GuardOptions, isInside } from "./guard";
import { realpath } from "node:fs/promises";
import { join, resolve } from "node:path";
import { UnsafePathError } from "../../errors";

export type TransferResult =
  | ({ action: "download" } & DownloadInputsResult)
  | ({ action: "merge" } & MergeInputsResult)
  | ({ action: "cleanup" } & CleanupResult)
  | ({ action: "upload" } & UploadResult);

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
  /**
   * Directories a local upload destination (a path or `file://` URL) may be in, compared as real
   * paths. The local runner names its outputs directory; the Lambda names none, so on AWS results
   * go to `s3://` destinations only. @default none
   */
  localOutputRoots?: string[];
  /** Writes `s3://` upload destinations; without it they are refused. */
  outputS3?: S3Sender;
  /** Multipart threshold, part size and concurrency of uploads (tests force multipart with small files). */
  uploadTuning?: UploadTuning;
}

/**
 * Runs one data-transfer action; shared by the Lambda and the local runner so both behave the same.
 * Every payload passes {@link guardTransfer} first: nothing is touched for a payload it refuses.
 */
export async function handleTransfer(payload: unknown, options: TransferHandlerOptions): Promise<TransferResult> {
  const p = await guardTransfer(parseTransferPayload(payload), {
    efsMountPath: options.efsMountPath,
    computeNodeId: options.computeNodeId,
    localOutputRoots: options.localOutputRoots,
    s3Destinations: options.outputS3 !== undefined,
  });
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
    case "upload":
      return {
        action: "upload",
        ...(await uploadOutputs({
          target: p.target,
          // The guard checked that no link leads to these below the mount: the real mount plus the hash is each OUTPUT_DIR's real path.
          sources: p.sources.map((s) => ({ processorId: s.processorId, dir: join(p.dirs.realWorkdir, s.hash) })),
          execution: { workdir: p.dirs.realWorkdir, inputDir: p.dirs.realInputDir },
          s3: options.outputS3,
          tuning: options.uploadTuning,
        })),
      };
  }
}

export { parseTransferPayload };
export type { TransferPayload };
