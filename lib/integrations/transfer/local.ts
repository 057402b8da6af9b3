import { handleTransfer } from "./handler";
import { parseTransferPayload } from "./contract";
import { RunContext } from "../../runtime/local/context";
import { lambdaError } from "../../runtime/local/task-error";
import { stopOutstandingProcessors } from "../processor/local";

/**
 * The data-transfer Lambda, run in-process on the local EFS stand-in with the Lambda's own guard
 * (lib/integrations/transfer/guard.ts): the same payload is refused here and on AWS. Local inputs
 * may come from the run's `--input` directory only.
 */
export async function localTransfer(ctx: RunContext, rawPayload: unknown): Promise<unknown> {
  try {
    const payload = parseTransferPayload(rawPayload);
    if (payload.action === "cleanup") await stopOutstandingProcessors(ctx);
    const result = await handleTransfer(payload, {
      efsMountPath: ctx.layout.efsRoot,
      computeNodeId: ctx.layout.computeNodeId,
      localInputRoots: ctx.localInputRoots,
      localOutputRoots: ctx.localOutputRoots,
      ...(ctx.outputS3 ? { outputS3: ctx.outputS3 } : {}),
    });
    ctx.emit({
      type: "step",
      step: payload.action,
      ...(payload.action === "merge" ? { processorId: payload.processorId } : {}),
      detail:
        result.action === "merge"
          ? `merged ${result.entries} entries from ${payload.action === "merge" ? payload.sources.map((s) => s.processorId).join(", ") : ""}`
          : result.action === "download"
            ? `copied ${result.copied} input entries`
            : result.action === "upload"
              ? `uploaded ${result.files} files (${result.bytes} bytes) to ${result.destination}${result.skipped ? `, skipped ${result.skipped} entries that are not files` : ""}`
              : `removed ${result.removed} temporary directories`,
    });
    return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    // The record's `error` carries the name (MergeCollision…); the cause is the message alone, or it would read "MergeCollision: MergeCollision: …".
    ctx.firstFailure ??= { processorId: (err as { processorId?: string }).processorId ?? "", cause: e.message };
    throw lambdaError(e);
  }
}

/** After an abort the machine's Cleanup state never ran: the runner removes the execution's merge dirs and input itself, through the same guard. */
export async function cleanupAbortedExecution(ctx: Pick<RunContext, "layout" | "workflowInstanceId">): Promise<void> {
  const { layout, workflowInstanceId } = ctx;
  await handleTransfer(
    { action: "cleanup", computeNodeId: layout.computeNodeId, workflowInstanceId, workdir: layout.instanceWorkdir(workflowInstanceId), inputDir: layout.inputDir(workflowInstanceId) },
    { efsMountPath: layout.efsRoot, computeNodeId: layout.computeNodeId },
  );
}

export type { UploadResult } from "./upload";
export type { S3Sender } from "./s3-fetch";
