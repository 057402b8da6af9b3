import { AslRetrier } from "./types";
import { ProcessorRetry } from "../../model/processor";

const backoff = { BackoffRate: 2, MaxDelaySeconds: 300, JitterStrategy: "FULL" as const };

/** RunTask capacity ("Capacity is unavailable", RESOURCE:ENI) and throttling surface as ECS.AmazonECSException; RunTask is limited to 20 calls/s. */
export const ECS_TRANSIENT: AslRetrier = {
  ErrorEquals: ["ECS.AmazonECSException", "ECS.ServerException", "ECS.ThrottlingException", "ECS.LimitExceededException"],
  IntervalSeconds: 5,
  MaxAttempts: 10,
  ...backoff,
};

/** The retry set AWS recommends for every lambda:invoke. */
export const LAMBDA_TRANSIENT: AslRetrier = {
  ErrorEquals: ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  ...backoff,
};

/** Unmodelled throttling of an aws-sdk integration arrives as the service's generic exception. */
export const SECRETS_TRANSIENT: AslRetrier = {
  ErrorEquals: ["SecretsManager.ThrottlingException", "SecretsManager.InternalServiceErrorException", "SecretsManager.SecretsManagerException"],
  IntervalSeconds: 1,
  MaxAttempts: 6,
  ...backoff,
};

export const SFN_TRANSIENT: AslRetrier = {
  ErrorEquals: ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SfnException", "StepFunctions.ThrottlingException"],
  IntervalSeconds: 2,
  MaxAttempts: 8,
  ...backoff,
};

/**
 * A processor's own failure (non-zero exit, Lambda function error, timeout) is retried only when its
 * registration asks; listed after the transient retrier, which matches first.
 */
export function processorRetry(retry: ProcessorRetry | undefined): AslRetrier[] {
  if (!retry || retry.maxAttempts === 0) return [];
  return [{ ErrorEquals: ["States.TaskFailed", "States.Timeout"], IntervalSeconds: retry.intervalSeconds, MaxAttempts: retry.maxAttempts, BackoffRate: retry.backoffRate }];
}
