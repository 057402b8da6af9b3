import { AslObject } from "../../compile/asl/types";
import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { LAMBDA_TRANSIENT } from "../../compile/asl/retry";

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
