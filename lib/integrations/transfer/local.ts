import { resolve, sep } from "node:path";
import { TransferInputError } from "../../errors";
import { parseTransferPayload } from "./contract";
import { handleTransfer } from "./handler";
import { cleanupExecution } from "./cleanup";
import { RunContext } from "../../runtime/local/context";
import { lambdaError } from "../../runtime/local/task-error";
import { stopOutstandingProcessors } from "../processor/local";

/** The data-transfer Lambda, run in-process on the local EFS stand-in. Every path must stay inside it. */
export async function localTransfer(ctx: RunContext, rawPayload: unknown): Promise<unknown> {
  try {
    const payload = parseTransferPayload(rawPayload);
    const paths = payload.action === "merge" ? [payload.targetDir, ...payload.sources.map((s) => s.dir)] : payload.action === "download" ? [payload.targetDir] : [payload.workdir, payload.inputDir];
    for (const path of paths) assertInside(ctx.layout.efsRoot, path);
    if (payload.action === "cleanup") await stopOutstandingProcessors(ctx);
    const result = await handleTransfer(payload);
    ctx.emit({
      type: "step",
      step: payload.action,
      ...(payload.action === "merge" ? { processorId: payload.processorId } : {}),
      detail:
        result.action === "merge"
          ? `merged ${Object.keys(result.entries).length} entries from ${payload.action === "merge" ? payload.sources.map((s) => s.processorId).join(", ") : ""}`
          : result.action === "download"
            ? `copied ${result.copied} input entries`
            : `removed ${result.removed.length} temporary directories`,
    });
    return { ExecutedVersion: "$LATEST", StatusCode: 200, Payload: result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    ctx.firstFailure ??= { processorId: (err as { processorId?: string }).processorId ?? "", cause: `${e.name}: ${e.message}` };
    throw lambdaError(e);
  }
}

function assertInside(root: string, path: string) {
  const full = resolve(path);
  if (full !== root && !full.startsWith(root + sep)) throw new TransferInputError(`path ${full} is outside the local EFS root ${root}`);
}

/** After an abort the machine's Cleanup state never ran: the runner removes the execution's merge dirs and input itself. */
export async function cleanupAbortedExecution(paths: { workflowInstanceId: string; workdir: string; inputDir: string }): Promise<void> {
  await cleanupExecution(paths);
}
