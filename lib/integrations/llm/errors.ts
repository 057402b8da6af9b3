import { ComputeNodeError } from "../../errors";
import { LlmErrorBody, LlmErrorCode } from "./contract";

type Details = Omit<LlmErrorBody["error"]["details"], "error_code">;

/** The Anthropic error `type` and HTTP status of each of our codes (the Messages API's error types, so SDKs raise the right class). */
const WIRE: Record<LlmErrorCode, { status: number; type: string }> = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  execution_required: { status: 400, type: "invalid_request_error" },
  caller_not_allowed: { status: 403, type: "permission_error" },
  execution_not_running: { status: 403, type: "permission_error" },
  model_not_allowed: { status: 403, type: "permission_error" },
  model_not_enabled: { status: 403, type: "permission_error" },
  // 402 billing_error: an SDK does not retry it, unlike a 429.
  budget_exceeded: { status: 402, type: "billing_error" },
  bedrock_throttled: { status: 429, type: "rate_limit_error" },
  bedrock_error: { status: 500, type: "api_error" },
  not_found: { status: 404, type: "not_found_error" },
};

/** A refusal or failure the governor answers with the Messages API error envelope. */
export class GovernorError extends ComputeNodeError {
  override name = "GovernorError";
  override readonly code: LlmErrorCode;
  readonly status: number;
  readonly errorType: string;
  readonly details: Details;
  constructor(code: LlmErrorCode, message: string, options: { details?: Details; status?: number; errorType?: string; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.code = code;
    this.status = options.status ?? WIRE[code].status;
    this.errorType = options.errorType ?? WIRE[code].type;
    this.details = options.details ?? {};
  }

  body(requestId: string): LlmErrorBody {
    return { type: "error", error: { type: this.errorType, message: `${this.code}: ${this.message}`, code: this.code, details: { error_code: this.code, ...this.details } }, request_id: requestId };
  }

  /** Response headers: `retry-after` for throttling; `x-should-retry: false` where retrying cannot help (the Anthropic SDKs obey it). */
  headers(): Record<string, string> {
    if (this.details.retry_after_seconds !== undefined) return { "retry-after": String(this.details.retry_after_seconds), "x-should-retry": "true" };
    return this.status < 500 ? { "x-should-retry": "false" } : {};
  }
}
