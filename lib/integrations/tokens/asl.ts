import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { LAMBDA_TRANSIENT } from "../../compile/asl/retry";
import { AslRetrier } from "../../compile/asl/types";
import { intrinsicLiteral } from "../../compile/paths";
import { ENV_FILE_PREFIX, partitionOf, TOKEN_ACTIONS } from "./contract";

/** Where a Lambda processor's tokens live between its ResolveToken and its own run state, which overwrites them. */
export const TOKEN_PATH = "$.tok";

// What the tokens function's own AWS calls throw when the service is busy (the Lambda reports the SDK error's name).
const TOKENS_TRANSIENT: AslRetrier = {
  ErrorEquals: ["ThrottlingException", "TooManyRequestsException", "InternalServiceError", "InternalErrorException", "InternalError", "SlowDown", "ServiceUnavailable"],
  IntervalSeconds: 1,
  MaxAttempts: 5,
  BackoffRate: 2,
  JitterStrategy: "FULL",
};

function tokensTask(functionArn: string, computeNodeId: string, action: string) {
  return {
    resource: RESOURCE.lambdaInvoke,
    parameters: { FunctionName: functionArn, Payload: { action, computeNodeId, "workflowInstanceId.$": "$.ctx.workflowInstanceId" } },
    timeoutSeconds: 60,
    retry: [LAMBDA_TRANSIENT, TOKENS_TRANSIENT],
  };
}

/**
 * Before a Lambda processor: the tokens function answers the (refreshed) tokens, which the run
 * state puts in the processor's payload (processor-guide section 3) and then overwrites.
 */
export function resolveTokenTask(functionArn: string, computeNodeId: string): TaskState {
  return new TaskState({ ...tokensTask(functionArn, computeNodeId, TOKEN_ACTIONS.resolve), resultSelector: { "t.$": "$.Payload" }, resultPath: TOKEN_PATH });
}

/**
 * Before an ECS processor: the tokens function writes the (refreshed) tokens to the execution's
 * environment file and answers only its location, which the state drops: no token enters the state.
 */
export function envFileTask(functionArn: string, computeNodeId: string): TaskState {
  return new TaskState({ ...tokensTask(functionArn, computeNodeId, TOKEN_ACTIONS.envFile), resultPath: null });
}

/** The environment file's object ARN as a JSONPath-mode value (`Value.$` of `EnvironmentFiles`): the same key the tokens function writes (envFileKey). */
export function envFileArnValue(bucket: string, region: string, computeNodeId: string): string {
  return `States.Format('arn:${partitionOf(region)}:s3:::${intrinsicLiteral(bucket)}/${intrinsicLiteral(ENV_FILE_PREFIX + computeNodeId)}/{}.env', $.ctx.workflowInstanceId)`;
}
