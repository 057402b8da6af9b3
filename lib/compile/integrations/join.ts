import { TaskState } from "../asl/task";
import { RESOURCE } from "../asl/resources";
import { LAMBDA_TRANSIENT } from "./retry";
import { MAX_TASK_TIMEOUT_SECONDS } from "../limits";

/** Release and abort touch one DynamoDB item per dependant and send a few task signals: well under a minute. */
const JOIN_CALL_TIMEOUT_SECONDS = 120;

/**
 * Exact mode: the unit's iteration hands its task token to the join function and sleeps until the
 * last of `after` is released (or the instance is aborted). It waits as long as its dependencies
 * run, hence the longest timeout a Task may carry.
 */
export function joinWaitTask(joinFunctionArn: string, unit: string, after: string[]): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvokeWaitForToken,
    parameters: {
      FunctionName: joinFunctionArn,
      Payload: { action: "join-wait", "workflowInstanceId.$": "$.ctx.workflowInstanceId", unit, after, "token.$": "$$.Task.Token" },
    },
    resultPath: null,
    timeoutSeconds: MAX_TASK_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT],
  });
}

/** Records `done` as finished for each dependant unit and wakes those whose dependencies have all finished. */
export function joinReleaseTask(joinFunctionArn: string, done: string[], dependants: string[]): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: {
      FunctionName: joinFunctionArn,
      Payload: { action: "join-release", "workflowInstanceId.$": "$.ctx.workflowInstanceId", done, dependants },
    },
    resultPath: null,
    timeoutSeconds: JOIN_CALL_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT],
  });
}

/**
 * A processor failed: every unit still waiting, in this machine or another chunk's, fails instead of
 * waiting forever. Its own failure must not hide the processor's, so it is caught by the caller.
 */
export function joinAbortTask(joinFunctionArn: string, failed: { literal: string } | { path: string }): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: {
      FunctionName: joinFunctionArn,
      Payload: { action: "join-abort", "workflowInstanceId.$": "$.ctx.workflowInstanceId", ...("literal" in failed ? { failed: failed.literal } : { "failed.$": failed.path }) },
    },
    resultPath: null,
    timeoutSeconds: JOIN_CALL_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT],
  });
}
