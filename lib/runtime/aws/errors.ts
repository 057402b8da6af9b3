import { AwsRuntimeError, ConflictError, NotFoundError, ValidationError } from "../../errors";

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

/**
 * Wraps an SDK error once, keeping it as `cause`: not found → NotFoundError, conflicts →
 * ConflictError, rejected input → ValidationError, anything else → AwsRuntimeError.
 * `what` names the call and resource, e.g. `CreateFunction proc-lambda-n1-ab12…`.
 */
export function toRuntimeError(err: unknown, what: string): Error {
  const name = awsErrorName(err) ?? "Error";
  const detail = err instanceof Error ? err.message : String(err);
  const message = `${what} failed: ${name}: ${detail}`;
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
