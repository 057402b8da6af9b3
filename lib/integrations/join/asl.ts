import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { AslRetrier } from "../../compile/asl/types";
import { LAMBDA_TRANSIENT } from "../../compile/asl/retry";
import { MAX_TASK_TIMEOUT_SECONDS } from "../../compile/limits";

/** Release and abort touch one DynamoDB item per dependant and send a few task signals: well under a minute. */
const JOIN_CALL_TIMEOUT_SECONDS = 120;

const backoff = { BackoffRate: 2, MaxDelaySeconds: 60, JitterStrategy: "FULL" as const };

/**
 * Errors the join function raises from its own calls when thousands of units start at once (the
 * errorType a Lambda function error carries is the SDK exception's name), or its own timeout. Every
 * join call is idempotent, so retrying is safe; an abort's `ComputeNode.JoinAborted` is not listed.
 */
export const JOIN_TRANSIENT: AslRetrier = {
  ErrorEquals: ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable", "Sandbox.Timedout"],
  IntervalSeconds: 1,
  MaxAttempts: 8,
  ...backoff,
};

/** Release and abort never fail on purpose: any failure of theirs is worth a few more tries. */
const JOIN_CALL_FAILED: AslRetrier = { ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 2, MaxAttempts: 6, ...backoff };

/**
 * Exact mode: the unit's iteration hands its task token to the join function and sleeps until the
 * last unit of `after` is released (or the instance is aborted). It waits as long as its dependencies
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
    retry: [LAMBDA_TRANSIENT, JOIN_TRANSIENT],
  });
}

/** Records the units in `done` as finished for each dependant unit and wakes those whose dependencies have all finished. */
export function joinReleaseTask(joinFunctionArn: string, done: string[], dependants: string[]): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: {
      FunctionName: joinFunctionArn,
      Payload: { action: "join-release", "workflowInstanceId.$": "$.ctx.workflowInstanceId", done, dependants },
    },
    resultPath: null,
    timeoutSeconds: JOIN_CALL_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT, JOIN_CALL_FAILED],
  });
}

type Value = { literal: string } | { path: string };
const field = (name: string, v: Value) => ("literal" in v ? { [name]: v.literal } : { [`${name}.$`]: v.path });

/**
 * A processor failed: every unit still waiting, in this machine or another part's, fails instead of
 * waiting forever. The join function keeps the instance's first failure (`failed`, error name and
 * sanitized cause) and answers every abort with it: with `reportAt`, the Task puts that failure
 * there as `{Error, Cause}`, so a part's Map failing with a generic threshold error still ends the
 * execution with the processor's own error. Its own failure must not hide the processor's, so the
 * caller catches it.
 */
export function joinAbortTask(joinFunctionArn: string, failure: { failed: Value; error: Value; cause: Value }, reportAt?: string): TaskState {
  return new TaskState({
    resource: RESOURCE.lambdaInvoke,
    parameters: {
      FunctionName: joinFunctionArn,
      Payload: { action: "join-abort", "workflowInstanceId.$": "$.ctx.workflowInstanceId", ...field("failed", failure.failed), ...field("error", failure.error), ...field("cause", failure.cause) },
    },
    ...(reportAt ? { resultSelector: { "Error.$": "$.Payload.error", "Cause.$": "$.Payload.cause" }, resultPath: reportAt } : { resultPath: null }),
    timeoutSeconds: JOIN_CALL_TIMEOUT_SECONDS,
    retry: [LAMBDA_TRANSIENT, JOIN_CALL_FAILED],
  });
}
