import { TransferInputError } from "../../errors";

/** The data-transfer actions the compiled machine invokes the function with. */
export const TRANSFER_ACTIONS = { download: "download", merge: "merge", cleanup: "cleanup", upload: "upload" } as const;

/** Where the function finds EFS when neither its options nor `EFS_MOUNT_PATH` say otherwise. */
export const DEFAULT_EFS_MOUNT_PATH = "/mnt/efs";

/**
 * At most this many names in a result: a task result must stay under Step Functions' 256 KiB
 * whatever the fan-in, and 50 names of at most 255 bytes are about 13 KiB.
 */
export const RESULT_SAMPLE_SIZE = 50;

/** The ids every payload carries; the guard checks every path against them (docs/security.md). */
export interface ExecutionIds {
  computeNodeId: string;
  workflowInstanceId: string;
}

/** The data-transfer Lambda's payloads (docs/asl-contract.md "Data-transfer payloads"). */
export type TransferPayload =
  | ({ action: "download"; targetDir: string; inputs: string[] } & ExecutionIds)
  | ({ action: "merge"; processorId: string; targetDir: string; sources: { processorId: string; dir: string }[] } & ExecutionIds)
  | ({ action: "cleanup"; workdir: string; inputDir: string } & ExecutionIds)
  | UploadPayload;

/**
 * Copies every sink processor's OUTPUT_DIR (`workdir/<hash>`) to `destination/<processorId>/…`
 * once the DAG has succeeded. `destination` is `s3://bucket/prefix/`, an absolute path or a
 * `file://` URL; the guard decides which of them this runtime may write.
 */
export type UploadPayload = { action: "upload"; workdir: string; destination: string; sources: UploadSource[] } & ExecutionIds;

/** A sink processor: its id names its part of the destination, its hash its OUTPUT_DIR. */
export interface UploadSource {
  processorId: string;
  hash: string;
}

/** Checks a payload's shape by hand: this module ships without npm dependencies. Paths are checked by the guard. */
export function parseTransferPayload(payload: unknown): TransferPayload {
  const p = asObject(payload, "payload");
  const str = (key: string): string => {
    const v = p[key];
    if (typeof v !== "string" || v.length === 0) throw new TransferInputError(`${String(p.action)} payload: "${key}" must be a non-empty string`, { field: key });
    return v;
  };
  const ids = (): ExecutionIds => ({ computeNodeId: str("computeNodeId"), workflowInstanceId: str("workflowInstanceId") });
  switch (p.action) {
    case "download": {
      const inputs = p.inputs ?? [];
      if (!Array.isArray(inputs) || inputs.some((i) => typeof i !== "string")) throw new TransferInputError(`download payload: "inputs" must be an array of strings`, { field: "inputs" });
      return { action: "download", ...ids(), targetDir: str("targetDir"), inputs: inputs as string[] };
    }
    case "merge": {
      if (!Array.isArray(p.sources)) throw new TransferInputError(`merge payload: "sources" must be an array`, { field: "sources" });
      const sources = p.sources.map((s, i) => {
        const o = asObject(s, `sources[${i}]`);
        if (typeof o.processorId !== "string" || typeof o.dir !== "string") throw new TransferInputError(`merge payload: sources[${i}] needs string "processorId" and "dir"`, { field: `sources[${i}]` });
        return { processorId: o.processorId, dir: o.dir };
      });
      return { action: "merge", ...ids(), processorId: str("processorId"), targetDir: str("targetDir"), sources };
    }
    case "cleanup":
      return { action: "cleanup", ...ids(), workdir: str("workdir"), inputDir: str("inputDir") };
    case "upload": {
      if (!Array.isArray(p.sources)) throw new TransferInputError(`upload payload: "sources" must be an array`, { field: "sources" });
      const sources = p.sources.map((s, i) => {
        const o = asObject(s, `sources[${i}]`);
        if (typeof o.processorId !== "string" || typeof o.hash !== "string") throw new TransferInputError(`upload payload: sources[${i}] needs string "processorId" and "hash"`, { field: `sources[${i}]` });
        return { processorId: o.processorId, hash: o.hash };
      });
      return { action: "upload", ...ids(), workdir: str("workdir"), destination: str("destination"), sources };
    }
    default:
      throw new TransferInputError(`unknown data-transfer action ${JSON.stringify(p.action)} (expected download, merge, cleanup or upload)`, { field: "action" });
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TransferInputError(`${what} must be an object`, { field: what });
  return value as Record<string, unknown>;
}
