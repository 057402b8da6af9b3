import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { DONE } from "../../compile/asl/state";
import { SFN_TRANSIENT } from "../../compile/asl/retry";
import { MAX_TASK_TIMEOUT_SECONDS } from "../../compile/limits";

/**
 * Runs a child machine and waits for it. The child gets only `ctx` (no token: it resolves its own),
 * and the execution id that ties it to its parent in the console.
 */
export function startChildTask(stateMachineArn: string, comment: string): TaskState {
  return new TaskState({
    comment,
    resource: RESOURCE.startExecutionSync2,
    parameters: { StateMachineArn: stateMachineArn, Input: { "ctx.$": "$.ctx", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id" } },
    resultSelector: { ...DONE },
    resultPath: null,
    timeoutSeconds: MAX_TASK_TIMEOUT_SECONDS,
    retry: [SFN_TRANSIENT],
  });
}
