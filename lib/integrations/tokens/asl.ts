import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { LAMBDA_TRANSIENT, SECRETS_TRANSIENT } from "../../compile/asl/retry";
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

/** Reads the per-execution secret just before a Lambda processor runs, for its payload (processor-guide "Credential handling"). */
export function resolveTokenTask(): TaskState {
  return new TaskState({
    resource: RESOURCE.getSecretValue,
    parameters: { "SecretId.$": "$.ctx.tokenSecretId" },
    resultSelector: { "t.$": "States.StringToJson($.SecretString)" },
    resultPath: TOKEN_PATH,
    timeoutSeconds: 60,
    retry: [SECRETS_TRANSIENT],
  });
}

/**
 * Before a Lambda processor's ResolveToken, on a node with a Cognito app client: the tokens
 * function refreshes the secret when its session token expires within 15 minutes. It answers no
 * token, and its result is dropped.
 */
export function refreshTokenTask(functionArn: string, computeNodeId: string): TaskState {
  return new TaskState({ ...tokensTask(functionArn, computeNodeId, TOKEN_ACTIONS.refresh), resultPath: null });
}

/**
 * Before an ECS processor: the tokens function (refreshes and) writes the tokens to the
 * execution's environment file and answers only its location, which the state drops: no token
 * enters the state.
 */
export function envFileTask(functionArn: string, computeNodeId: string): TaskState {
  return new TaskState({ ...tokensTask(functionArn, computeNodeId, TOKEN_ACTIONS.envFile), resultPath: null });
}

/** The environment file's object ARN as a JSONPath-mode value (`Value.$` of `EnvironmentFiles`): the same key the tokens function writes (envFileKey). */
export function envFileArnValue(bucket: string, region: string, computeNodeId: string): string {
  return `States.Format('arn:${partitionOf(region)}:s3:::${intrinsicLiteral(bucket)}/${intrinsicLiteral(ENV_FILE_PREFIX + computeNodeId)}/{}.env', $.ctx.workflowInstanceId)`;
}
