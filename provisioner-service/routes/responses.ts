import { ValidationError } from "../../lib/errors";
import { isTerminalOperationState } from "../../lib/provision/events";
import { OperationRecord } from "../../lib/provision/records";
import { HttpResult, ResponseSpec } from "../route";
import { ErrorResponseSchema } from "../schemas/common";

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "The request is invalid; `issues` names every bad field.",
  401: "Missing or wrong bearer token.",
  404: "No such resource.",
  405: "Method not allowed on this path.",
  409: "The node is busy (`holderId` names the operation or execution holding it) or in the wrong state.",
  413: "Request body too large.",
  415: "Unsupported body encoding.",
  422: "The Idempotency-Key was used with a different request.",
  500: "Internal error; no detail is given, quote the request id.",
  503: "A required engine is not available (e.g. no Pulumi CLI): the message says what to install.",
};

/** Documented error responses; every route gets 401 (when authenticated) and 500. */
export function errorResponses(...statuses: number[]): Record<number, ResponseSpec> {
  const out: Record<number, ResponseSpec> = {};
  for (const status of [...statuses, 500]) out[status] = { description: ERROR_DESCRIPTIONS[status], schema: ErrorResponseSchema };
  return out;
}

export const OPERATION_HEADERS = {
  Location: { description: "URL of the operation: GET it, or its /events for a live stream.", schema: { type: "string" as const } },
  "Retry-After": { description: "Seconds to wait before polling the operation.", schema: { type: "integer" as const } },
};

/** 202 while the operation is unfinished (200 for an idempotent replay of a finished one), with Location and Retry-After. */
export function operationAccepted(operation: OperationRecord, body: unknown, retryAfterSeconds: number): HttpResult {
  return {
    status: isTerminalOperationState(operation.state) ? 200 : 202,
    body,
    headers: { Location: `/v1/operations/${operation.id}`, "Retry-After": String(retryAfterSeconds) },
  };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header))
    throw new ValidationError([{ code: "invalid_idempotency_key", path: ["headers", "Idempotency-Key"], message: "must be 1–255 visible ASCII characters" }]);
  return header;
}
