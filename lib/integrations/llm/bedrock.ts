import { BedrockRuntimeClient, CountTokensCommand, InvokeModelCommand, InvokeModelWithResponseStreamCommand } from "@aws-sdk/client-bedrock-runtime";

/** What the governor needs of Bedrock: the Anthropic-on-Bedrock body in, the Messages API's JSON (or stream events) out. */
export interface BedrockInvoker {
  invoke(modelId: string, body: Uint8Array, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** Resolves once Bedrock accepted the call (errors before the first byte reject here); events are the Messages API stream events. */
  invokeStream(modelId: string, body: Uint8Array, signal: AbortSignal): Promise<AsyncIterable<Record<string, unknown>>>;
  /** The input tokens Bedrock would bill for this body (`CountTokens`, which takes a foundation-model id). */
  countTokens(modelId: string, body: Uint8Array, signal: AbortSignal): Promise<number>;
}

/** Why Bedrock refused or failed a call, in the terms the governor answers with. */
export type BedrockFailure = "throttled" | "not_enabled" | "invalid_request" | "timeout" | "unavailable" | "failed";

/** A Bedrock error, classified once by exception name (never by message text). The message is Bedrock's, about the request, never logged. */
export class BedrockCallError extends Error {
  override name = "BedrockCallError";
  constructor(
    readonly failure: BedrockFailure,
    /** The Bedrock exception name (`ThrottlingException`…), what usage records and logs keep. */
    readonly exception: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const FAILURES: Record<string, BedrockFailure> = {
  ThrottlingException: "throttled",
  ServiceQuotaExceededException: "throttled",
  ModelNotReadyException: "throttled",
  // Model access not granted in the account, or the model's use-case form not submitted.
  AccessDeniedException: "not_enabled",
  ResourceNotFoundException: "not_enabled",
  ValidationException: "invalid_request",
  ModelTimeoutException: "timeout",
  ServiceUnavailableException: "unavailable",
  InternalServerException: "failed",
  ModelErrorException: "failed",
  ModelStreamErrorException: "failed",
};

/** Maps any error of a Bedrock call to a BedrockCallError; an aborted call stays an AbortError. */
export function classifyBedrockError(err: unknown): unknown {
  if (err instanceof BedrockCallError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name === "AbortError") return err;
  const byName = e?.name ? FAILURES[e.name] : undefined;
  const status = e?.$metadata?.httpStatusCode;
  const failure = byName ?? (status === 429 ? "throttled" : status === 403 ? "not_enabled" : status === 400 ? "invalid_request" : "failed");
  return new BedrockCallError(failure, e?.name ?? "Error", e?.message ?? "Bedrock call failed", { cause: err });
}

/**
 * Bedrock through the AWS SDK, configured the standard way (region, credential chain, and
 * `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL`, which the SDK itself reads). Retries are
 * the caller's: a throttled call goes back to the processor as a 429 with `retry-after`.
 */
export function bedrockInvoker(client: Pick<BedrockRuntimeClient, "send">): BedrockInvoker {
  const decoder = new TextDecoder();
  return {
    async invoke(modelId, body, signal) {
      try {
        const out = await client.send(new InvokeModelCommand({ modelId, body, contentType: "application/json", accept: "application/json" }), { abortSignal: signal });
        return JSON.parse(decoder.decode(out.body)) as Record<string, unknown>;
      } catch (err) {
        throw classifyBedrockError(err);
      }
    },
    async countTokens(modelId, body, signal) {
      try {
        const out = await client.send(new CountTokensCommand({ modelId, input: { invokeModel: { body } } }), { abortSignal: signal });
        if (typeof out.inputTokens !== "number") throw new BedrockCallError("failed", "EmptyCount", "Bedrock answered CountTokens without a count");
        return out.inputTokens;
      } catch (err) {
        throw classifyBedrockError(err);
      }
    },
    async invokeStream(modelId, body, signal) {
      let out;
      try {
        out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId, body, contentType: "application/json", accept: "application/json" }), { abortSignal: signal });
      } catch (err) {
        throw classifyBedrockError(err);
      }
      const stream = out.body;
      if (!stream) throw new BedrockCallError("failed", "EmptyStream", "Bedrock answered without a stream");
      return (async function* () {
        try {
          for await (const event of stream) {
            if (event.chunk?.bytes) {
              yield JSON.parse(decoder.decode(event.chunk.bytes)) as Record<string, unknown>;
              continue;
            }
            // A modelled exception event: the SDK may hand it over as a member rather than throw it.
            const [name, detail] = Object.entries(event).find(([, v]) => v !== undefined) ?? ["unknown", undefined];
            const exception = name.charAt(0).toUpperCase() + name.slice(1);
            throw classifyBedrockError({ name: exception, message: (detail as { message?: string } | undefined)?.message ?? `Bedrock stream error ${exception}` });
          }
        } catch (err) {
          throw classifyBedrockError(err);
        }
      })();
    },
  };
}

export interface BedrockClientOptions {
  region: string;
  /** @default the SDK's: AWS_ENDPOINT_URL_BEDROCK_RUNTIME, then AWS_ENDPOINT_URL */
  endpoint?: string;
}

/** The runtime client, with no retry of its own (see bedrockInvoker). */
export function bedrockClient(options: BedrockClientOptions): BedrockRuntimeClient {
  return new BedrockRuntimeClient({ region: options.region, maxAttempts: 1, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
}
