import { AwsRuntimeError, ConflictError, InternalError, NotFoundError, ValidationError } from "../../errors";

/*
 * The one module that reads AWS error names. Everything else asks a question of it (isNotFound,
 * isAlreadyExists, …) or wraps an SDK error with toRuntimeError. Imports only lib/errors.ts: the
 * Lambda handlers bundle it.
 */

/** What kind of failure an AWS SDK error is, decided by its `name` (never its message). */
export type AwsErrorKind = "throttle" | "not_found" | "conflict" | "invalid" | "access" | "transient" | "other";

const THROTTLE = new Set(["ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "ProvisionedThroughputExceededException", "RequestThrottled", "SlowDown", "LimitExceededException"]);
const NOT_FOUND = new Set(["ResourceNotFoundException", "StateMachineDoesNotExist", "ExecutionDoesNotExist", "NoSuchKey", "NoSuchBucket", "NotFoundException", "InvalidNetworkInterfaceID.NotFound"]);
const CONFLICT = new Set(["ResourceConflictException", "ResourceInUseException", "StateMachineAlreadyExists", "ExecutionAlreadyExists", "ResourceExistsException", "ConditionalCheckFailedException", "ConflictException", "InvalidNetworkInterface.InUse"]);
const INVALID = new Set(["InvalidParameterValueException", "InvalidParameterException", "InvalidDefinition", "InvalidArn", "InvalidName", "InvalidLoggingConfiguration", "ValidationException", "InvalidRequestException", "InvalidExecutionInput"]);
const ACCESS = new Set(["AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"]);
const TRANSIENT = new Set(["ServiceException", "ServiceUnavailable", "ServiceUnavailableException", "InternalServerError", "InternalFailure", "ServerException", "EC2ThrottledException", "ResourceNotReadyException"]);

export function awsErrorName(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && typeof (err as { name?: unknown }).name === "string" ? (err as { name: string }).name : undefined;
}

export function classifyAwsError(err: unknown): AwsErrorKind {
  const name = awsErrorName(err) ?? "";
  if (THROTTLE.has(name)) return "throttle";
  if (NOT_FOUND.has(name)) return "not_found";
  if (CONFLICT.has(name)) return "conflict";
  if (INVALID.has(name)) return "invalid";
  if (ACCESS.has(name)) return "access";
  if (TRANSIENT.has(name)) return "transient";
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  if (status === 429) return "throttle";
  if (status === 404) return "not_found";
  if (status !== undefined && status >= 500) return "transient";
  return "other";
}

export const isThrottle = (err: unknown) => classifyAwsError(err) === "throttle";
export const isNotFound = (err: unknown) => classifyAwsError(err) === "not_found";

const named = (names: readonly string[]) => {
  const set = new Set(names);
  return (err: unknown): boolean => set.has(awsErrorName(err) ?? "");
};

/** A create found the resource already there (a retried start's secret, a machine a concurrent deploy created). */
export const isAlreadyExists = named(["ResourceExistsException", "StateMachineAlreadyExists", "ExecutionAlreadyExists"]);

/** A DynamoDB write's condition did not hold: someone else wrote first. */
export const isConditionalCheckFailed = named(["ConditionalCheckFailedException"]);

/** A DynamoDB transaction was cancelled; {@link transactionCancellationCodes} says why, item by item. */
export const isTransactionCanceled = named(["TransactionCanceledException"]);

/** The per-item reason codes of a cancelled transaction (`ConditionalCheckFailed`, `TransactionConflict`, `None`, …), in item order. */
export function transactionCancellationCodes(err: unknown): (string | undefined)[] {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] } | undefined)?.CancellationReasons;
  return Array.isArray(reasons) ? reasons.map((r) => r?.Code) : [];
}

/** Step Functions' answers to a task token whose Task already closed (succeeded, failed, timed out, or retried with a new token). */
export const isClosedTaskToken = named(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/** An ENI is still attached (Lambda releases a deleted function's ENIs minutes later). */
export const isNetworkInterfaceInUse = named(["InvalidNetworkInterface.InUse"]);

/** ECS's generic refusal: what it answers for an unknown family or a revision already deregistered. */
export const isEcsClientException = named(["ClientException"]);

/** The endpoint lacks the operation (older ECS endpoints and emulators have no DeleteTaskDefinitions). */
export const isUnsupportedOperation = (err: unknown): boolean => {
  const name = awsErrorName(err) ?? "";
  return ["InvalidAction", "UnknownOperationException", "ClientException"].includes(name) || /NotImplemented/.test(name);
};

/**
 * Step Functions refused a definition our compiler produced: our bug, never the user's input. Only
 * definitions reach Create/UpdateStateMachine, so the name alone decides.
 */
export const isInvalidDefinition = named(["InvalidDefinition"]);

/** An SDK-shaped error with `name` (what the AWS runtime's own waits fail with, e.g. a function that never became Active). */
export function awsStyleError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/**
 * Wraps an SDK error once, keeping it as `cause`: not found → NotFoundError, conflicts →
 * ConflictError, a refused state machine definition → InternalError (the compiler's bug), other
 * rejected input → ValidationError, anything else → AwsRuntimeError.
 * `what` names the call and resource, e.g. `CreateFunction proc-lambda-n1-ab12…`.
 */
export function toRuntimeError(err: unknown, what: string): Error {
  const name = awsErrorName(err) ?? "Error";
  const detail = err instanceof Error ? err.message : String(err);
  const message = `${what} failed: ${name}: ${detail}`;
  if (isInvalidDefinition(err)) return new InternalError(`${message}; Step Functions refused the state machine definition compute-node compiled`, { cause: err });
  switch (classifyAwsError(err)) {
    case "not_found":
      return new NotFoundError(message, { cause: err });
    case "conflict":
      return new ConflictError(message, undefined, { cause: err });
    case "invalid":
      return new ValidationError([{ code: "aws_rejected", path: [], message }], { cause: err });
    default:
      return new AwsRuntimeError(`aws_${classifyAwsError(err)}`, message, { cause: err });
  }
}
