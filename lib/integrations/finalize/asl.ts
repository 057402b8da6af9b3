import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { LAMBDA_TRANSIENT } from "../../compile/asl/retry";
import { FINALIZE_ACTION } from "./contract";

/** Lambda's maximum: archiving many processors' logs may take long. */
const FINALIZE_TIMEOUT_SECONDS = 900;

export function finalizeTask(functionArn: string, computeNodeId: string, status: "SUCCEEDED" | "FAILED"): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: {
      FunctionName: functionArn,
      Payload: {
        action: FINALIZE_ACTION,
        computeNodeId,
        "workflowInstanceId.$": "$.ctx.workflowInstanceId",
        status,
        ...(status === "FAILED" ? { "error.$": "$.error" } : {}),
        // Finalize reads this execution's history to archive logs per processor (ECS task, Lambda invocation).
        "executionArn.$": "$$.Execution.Id",
      },
    },
    resultPath: null,
    timeoutSeconds: FINALIZE_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT],
  });
}
