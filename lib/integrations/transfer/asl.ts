import { AslObject } from "../../compile/asl/types";
import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { LAMBDA_TRANSIENT } from "../../compile/asl/retry";
import type { UploadResult } from "./upload";

/** Lambda's maximum: downloads and merges of many files may take long. */
const TRANSFER_TIMEOUT_SECONDS = 900;

function transferTask(functionArn: string, payload: AslObject): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: { FunctionName: functionArn, Payload: payload },
    // The result (counts and a bounded sample of names) is of no use to later states.
    resultPath: null,
    timeoutSeconds: TRANSFER_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT],
  });
}

export function downloadTask(functionArn: string, computeNodeId: string, inputs: { path: string } | { literal: string[] }): TaskState {
  return transferTask(functionArn, {
    action: "download",
    computeNodeId,
    "workflowInstanceId.$": "$.ctx.workflowInstanceId",
    "targetDir.$": "$.ctx.inputDir",
    ...("path" in inputs ? { "inputs.$": inputs.path } : { inputs: inputs.literal }),
  });
}

/** Symlinks every dependency's outputs into the processor's merge dir (processor-guide "How Merges Work"). */
export function mergeTask(functionArn: string, computeNodeId: string, processorId: { literal: string } | { path: string }, targetDir: string, sources: { processorId: string; hash: string }[]): TaskState {
  return transferTask(functionArn, {
    action: "merge",
    computeNodeId,
    "workflowInstanceId.$": "$.ctx.workflowInstanceId",
    ...("literal" in processorId ? { processorId: processorId.literal } : { "processorId.$": processorId.path }),
    "targetDir.$": targetDir,
    sources: sources.map((s) => ({ processorId: s.processorId, "dir.$": `States.Format('{}/${s.hash}', $.ctx.workdir)` })),
  });
}

export function cleanupTask(functionArn: string, computeNodeId: string): TaskState {
  return transferTask(functionArn, {
    action: "cleanup",
    computeNodeId,
    "workflowInstanceId.$": "$.ctx.workflowInstanceId",
    "workdir.$": "$.ctx.workdir",
    "inputDir.$": "$.ctx.inputDir",
  });
}

/** UploadResult's fields: each one is copied into the state, `action` is not. */
const UPLOAD_RESULT_FIELDS = ["destination", "files", "bytes", "skipped", "processorCount", "processors", "sample"] as const satisfies readonly (keyof UploadResult)[];
// A field added to UploadResult must be listed above, or it would never reach the execution output.
const uploadFieldsListed: Exclude<keyof UploadResult, (typeof UPLOAD_RESULT_FIELDS)[number]> extends never ? true : never = true;
void uploadFieldsListed;

/**
 * Copies every sink processor's OUTPUT_DIR to the execution input's `outputs` destination (as
 * `<destination><processorId>/…`) once the DAG has succeeded. Its result, the upload summary
 * without `action`, goes to `$.ctx.outputs`, so the execution output (`$.ctx`) carries it.
 */
export function uploadTask(functionArn: string, computeNodeId: string, sinks: { processorId: string; hash: string }[]): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: {
      FunctionName: functionArn,
      Payload: {
        action: "upload",
        computeNodeId,
        "workflowInstanceId.$": "$.ctx.workflowInstanceId",
        "workdir.$": "$.ctx.workdir",
        "destination.$": "$.outputs",
        sources: sinks.map((s) => ({ processorId: s.processorId, hash: s.hash })),
      },
    },
    resultSelector: Object.fromEntries(UPLOAD_RESULT_FIELDS.map((f) => [`${f}.$`, `$.Payload.${f}`])),
    resultPath: "$.ctx.outputs",
    timeoutSeconds: TRANSFER_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT],
  });
}
