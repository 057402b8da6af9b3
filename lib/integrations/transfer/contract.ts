import { TransferInputError } from "../../errors";

/** The data-transfer actions the compiled machine invokes the function with. */
export const TRANSFER_ACTIONS = { download: "download", merge: "merge", cleanup: "cleanup" } as const;

/** The data-transfer Lambda's payloads (docs/asl-contract.md "Data-transfer payloads"). */
export type TransferPayload =
  | { action: "download"; computeNodeId: string; workflowInstanceId: string; targetDir: string; inputs: string[] }
  | { action: "merge"; processorId: string; targetDir: string; sources: { processorId: string; dir: string }[] }
  | { action: "cleanup"; computeNodeId: string; workflowInstanceId: string; workdir: string; inputDir: string };

/** Checks a payload's shape by hand: this module ships without npm dependencies. */
export function parseTransferPayload(payload: unknown): TransferPayload {
  const p = asObject(payload, "payload");
  const str = (key: string): string => {
    const v = p[key];
    if (typeof v !== "string" || v.length === 0) throw new TransferInputError(`${String(p.action)} payload: "${key}" must be a non-empty string`);
    return v;
  };
  switch (p.action) {
    case "download": {
      const inputs = p.inputs ?? [];
      if (!Array.isArray(inputs) || inputs.some((i) => typeof i !== "string")) throw new TransferInputError(`download payload: "inputs" must be an array of strings`);
      return { action: "download", computeNodeId: str("computeNodeId"), workflowInstanceId: str("workflowInstanceId"), targetDir: str("targetDir"), inputs: inputs as string[] };
    }
    case "merge": {
      if (!Array.isArray(p.sources)) throw new TransferInputError(`merge payload: "sources" must be an array`);
      const sources = p.sources.map((s, i) => {
        const o = asObject(s, `sources[${i}]`);
        if (typeof o.processorId !== "string" || typeof o.dir !== "string") throw new TransferInputError(`merge payload: sources[${i}] needs string "processorId" and "dir"`);
        return { processorId: o.processorId, dir: o.dir };
      });
      return { action: "merge", processorId: str("processorId"), targetDir: str("targetDir"), sources };
    }
    case "cleanup":
      return { action: "cleanup", computeNodeId: str("computeNodeId"), workflowInstanceId: str("workflowInstanceId"), workdir: str("workdir"), inputDir: str("inputDir") };
    default:
      throw new TransferInputError(`unknown data-transfer action ${JSON.stringify(p.action)} (expected download, merge or cleanup)`);
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TransferInputError(`${what} must be an object`);
  return value as Record<string, unknown>;
}
