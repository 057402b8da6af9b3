import { z } from "zod";
import { ComputeNodeError, ConflictError, NotFoundError, UnavailableError, ValidationError, errorKind, isComputeNodeError, toDotPath } from "../lib/errors";
import { IdempotencyKeyReusedError } from "../lib/provision/idempotency";
import { ErrorResponse } from "./schemas/common";

/** The bearer token is missing or wrong. HTTP 401. */
export class UnauthorizedError extends ComputeNodeError {
  override name = "UnauthorizedError";
  constructor(message: string) {
    super("unauthorized", message);
  }
}

/** The path exists but not with this method. HTTP 405. */
export class MethodNotAllowedError extends ComputeNodeError {
  override name = "MethodNotAllowedError";
  constructor(readonly allowed: string[]) {
    super("method_not_allowed", `method not allowed here; allowed: ${allowed.join(", ")}`);
  }
}

/** A body was sent with another content type than JSON. HTTP 415. */
export class UnsupportedMediaTypeError extends ComputeNodeError {
  override name = "UnsupportedMediaTypeError";
  constructor() {
    super("unsupported_media_type", "send the request body as JSON with Content-Type: application/json");
  }
}

/** The JSON body is nested deeper than the service accepts. HTTP 400. */
export class BodyTooDeepError extends ComputeNodeError {
  override name = "BodyTooDeepError";
  /** body-parser keeps a verify error's own status. */
  readonly status = 400;
  constructor(readonly maxDepth: number) {
    super("body_too_deep", `the request body nests objects and arrays more than ${maxDepth} levels deep; no request of this API needs that many`);
  }
}

/** The deepest `[`/`{` nesting of a JSON text, counted without parsing it (strings skipped); stops counting past `limit`. */
export function jsonDepthExceeds(text: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * The answer to a request Node's HTTP parser refused before express saw it (`clientError`):
 * headers too large (431) or a malformed request (400), with the API's JSON error envelope.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException, requestId: string): string {
  const [status, reason, code, message] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "Request Header Fields Too Large", "headers_too_large", "the request's headers are larger than the service accepts"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "request_timeout", "the request did not arrive in time"]
        : [400, "Bad Request", "bad_request", "the request is not valid HTTP"];
  const body = JSON.stringify({ error: { code, message, requestId } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`;
}

export interface HttpError {
  status: number;
  body: ErrorResponse;
  headers: Record<string, string>;
  /** A 5xx: log it with its stack, and show the caller nothing of it. */
  internal: boolean;
}

// body-parser marks its errors with `type` and `status`: the client sent bad JSON or too much of it.
const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  "entity.parse.failed": { status: 400, code: "invalid_json", message: "the request body is not valid JSON" },
  "entity.too.large": { status: 413, code: "body_too_large", message: "the request body is larger than the service accepts" },
  "encoding.unsupported": { status: 415, code: "unsupported_encoding", message: "the request body's encoding is not supported" },
  "charset.unsupported": { status: 415, code: "unsupported_charset", message: "the request body's charset is not supported; send UTF-8" },
};

/** The one place errors become HTTP statuses; what kind an error is, errorKind (lib/errors.ts) decides for the CLI too. */
export function toHttpError(err: unknown, requestId: string): HttpError {
  const make = (status: number, code: string, message: string, extra: Partial<ErrorResponse["error"]> = {}, headers: Record<string, string> = {}): HttpError => ({
    status,
    body: { error: { code, message, ...extra, requestId } },
    headers,
    internal: status >= 500 && status !== 503,
  });
  if (err instanceof z.ZodError) err = new ValidationError(err.issues.map((i) => ({ code: i.code, path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message })));
  if (err instanceof ValidationError)
    return make(400, err.code, "the request is invalid: " + err.issues.map((i) => `${toDotPath(i.path) || "(request)"}: ${i.message}`).join("; "), {
      issues: err.issues.map((i) => ({ code: i.code, path: i.path, field: toDotPath(i.path), message: i.message, ...(i.processorId ? { processorId: i.processorId } : {}) })),
    });
  if (err instanceof UnauthorizedError) return make(401, err.code, err.message, {}, { "WWW-Authenticate": 'Bearer realm="compute-node"' });
  if (err instanceof NotFoundError) return make(404, err.code, err.message);
  if (err instanceof MethodNotAllowedError) return make(405, err.code, err.message, {}, { Allow: err.allowed.join(", ") });
  if (err instanceof ConflictError) return make(409, err.code, err.message, err.holderId ? { holderId: err.holderId } : {});
  if (err instanceof UnsupportedMediaTypeError) return make(415, err.code, err.message);
  if (err instanceof BodyTooDeepError) return make(400, err.code, err.message);
  // The router could not percent-decode a path segment (`%E0%A4%A`): the caller's path is malformed.
  if (err instanceof URIError) return make(400, "invalid_path", "the request path holds a malformed percent-encoding");
  if (err instanceof IdempotencyKeyReusedError) return make(422, err.code, err.message);
  if (err instanceof UnavailableError) return make(503, err.code, err.message, {}, { "Retry-After": "30" });
  const bodyError = typeof err === "object" && err !== null && typeof (err as { type?: unknown }).type === "string" ? BODY_ERRORS[(err as { type: string }).type] : undefined;
  if (bodyError) return make(bodyError.status, bodyError.code, bodyError.message);
  // A CompileError (the workflow cannot fit Step Functions) is the caller's to change: 400, as the CLI exits 2.
  if (isComputeNodeError(err) && errorKind(err) === "invalid_input") return make(400, err.code, err.message);
  // Everything else, InternalError (our bug, e.g. a state machine definition AWS refused) included: logged with its stack, never shown.
  return make(500, "internal", `internal error; quote request id ${requestId} to the operator`);
}
