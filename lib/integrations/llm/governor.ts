import { randomBytes } from "node:crypto";
import {
  BEDROCK_ANTHROPIC_VERSION,
  BUDGET_CONFIG_KEYS,
  BudgetLevel,
  LlmCallOutcome,
  LlmModel,
  LlmSettings,
  LlmUsageRecord,
  NANO_PER_USD,
  formatUsd,
  usdFromNano,
} from "./contract";
import { BedrockCallError, BedrockInvoker } from "./bedrock";
import { CallerContext, CallerResolver } from "./callers";
import { NO_USAGE, TokenUsage, costBound, costBoundFor, costOf } from "./cost";
import { GovernorError } from "./errors";
import { anthropicIdOf } from "./settings";
import { splitBedrockId } from "./prices";
import { BudgetCounter, Reservation, UsageStore, budgetCounters } from "./store";
import { systemClock } from "../../clock";

/** One HTTP request, whatever carried it (node:http locally, a Function URL or a direct invocation on AWS). */
export interface GovernorRequest {
  method: string;
  /** Relative to the API root: `/v1/messages`. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string | undefined>;
  body?: string;
  /** The SigV4-verified caller, when the transport has one. */
  iamCallerArn?: string;
  /** Aborted when the client goes away: a streaming call stops reading Bedrock and settles. */
  signal: AbortSignal;
}

export type GovernorResponse =
  | { kind: "json"; status: number; headers: Record<string, string>; body: unknown }
  /** Server-sent events in the Messages API's format; iterating to the end (or stopping early) settles the call. */
  | { kind: "sse"; status: 200; headers: Record<string, string>; events: AsyncIterable<string> };

/** What the governor logs: ids, counts and outcomes only, never a prompt, a response, a header or a key. */
export interface GovernorLogEntry {
  event: "llm.call" | "llm.refused" | "llm.sweep";
  requestId?: string;
  executionId?: string;
  processorId?: string;
  model?: string;
  outcome?: LlmCallOutcome;
  code?: string;
  costUsd?: number;
  reservedUsd?: number;
  inputTokens?: number;
  outputTokens?: number;
  latencyMs?: number;
  freed?: number;
}

export interface GovernorOptions {
  settings: LlmSettings;
  store: UsageStore;
  bedrock: BedrockInvoker;
  callers: CallerResolver;
  /** @default () => new Date() */
  now?: () => Date;
  /** @default random hex */
  newId?: () => string;
  log?: (entry: GovernorLogEntry) => void;
  /** Seconds a throttled caller is told to wait (`retry-after`). @default 5 */
  throttleRetryAfterSeconds?: number;
  /** Largest request body accepted, in bytes. @default 32 MiB (the Messages API's limit) */
  maxBodyBytes?: number;
}

export interface Governor {
  handle(request: GovernorRequest): Promise<GovernorResponse>;
}

interface MessagesBody extends Record<string, unknown> {
  model: string;
  max_tokens: number;
  messages: unknown[];
  stream?: boolean;
}

const JSON_HEADERS = { "content-type": "application/json" };
/** Only requests whose bound is this large are worth a CountTokens round trip when their reservation does not fit. */
const COUNT_TOKENS_ABOVE = 8_192;

/**
 * The governed Messages API: `POST /v1/messages` (JSON or `stream: true` as server-sent events),
 * `GET /v1/models`, `GET /v1/models/{id}` and `GET /v1/budget`. Every call is checked (caller,
 * execution, model allow-list), then its maximum possible cost is reserved at every budget level in
 * one atomic store write; the real usage is settled afterwards (streams included), a failed call
 * releases its reservation, and reservations a crashed governor left behind are swept once expired.
 */
export function createGovernor(options: GovernorOptions): Governor {
  const { settings, store, bedrock, callers } = options;
  const now = options.now ?? systemClock;
  const newId = options.newId ?? (() => randomBytes(12).toString("hex"));
  const log = options.log ?? (() => undefined);
  const retryAfter = options.throttleRetryAfterSeconds ?? 5;
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;

  const json = (status: number, body: unknown, headers: Record<string, string> = {}): GovernorResponse => ({ kind: "json", status, headers: { ...JSON_HEADERS, ...headers }, body });

  const findModel = (name: string): LlmModel | undefined =>
    settings.models.find((m) => m.id === name) ?? settings.models.find((m) => anthropicIdOf(m.bedrockModelId) === name);

  const usageRecord = (call: Reservation["call"], fields: Partial<LlmUsageRecord> & Pick<LlmUsageRecord, "outcome">): LlmUsageRecord => ({
    ...call,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    costUsd: 0,
    reservedUsd: 0,
    usageEstimated: false,
    latencyMs: Math.max(0, now().getTime() - Date.parse(call.startedAt)),
    ...fields,
  });

  /**
   * Reserves, or throws budget_exceeded. When the size-based bound does not fit, expired reservations
   * are swept and, if the input was only bounded, Bedrock counts it: the exact input may fit where
   * its bound did not (a large PDF). The reservation's amount is lowered to what was granted.
   */
  async function reserveOrRefuse(reservation: Reservation, recount?: () => Promise<number | undefined>): Promise<void> {
    let outcome = await store.reserve(reservation);
    if (!outcome.reserved) {
      // A crashed governor's reservations hold budget until they expire: free them, then try once more.
      const freed = await store.sweepExpired(now());
      if (freed > 0) {
        log({ event: "llm.sweep", freed });
        outcome = await store.reserve(reservation);
      }
    }
    if (!outcome.reserved && recount) {
      const counted = await recount();
      if (counted !== undefined && counted < reservation.amountNano) {
        reservation.amountNano = counted;
        outcome = await store.reserve(reservation);
      }
    }
    if (outcome.reserved) return;
    throw budgetError(outcome.counter, outcome.committedNano, reservation.amountNano);
  }

  function budgetError(counter: BudgetCounter, committedNano: number, requestedNano: number): GovernorError {
    const remaining = Math.max(0, counter.capNano - committedNano);
    const key = BUDGET_CONFIG_KEYS[counter.level];
    const what = counter.window === "lifetime" ? "" : ` for ${counter.window}`;
    return new GovernorError(
      "budget_exceeded",
      `the ${describeLevel(counter.level)} budget (${key} = ${formatUsd(counter.capNano / NANO_PER_USD)}${what}) has ${formatUsd(remaining / NANO_PER_USD)} left, ` +
        `and this call could cost up to ${formatUsd(requestedNano / NANO_PER_USD)} (its input bounded from the request size, max_tokens at the output price); ` +
        (requestedNano > counter.capNano ? "lower max_tokens or shorten the request" : "lower max_tokens, wait for the window to reset, or raise the budget"),
      {
        details: {
          budget: { level: counter.level, config_key: key, cap_usd: usdFromNano(counter.capNano), remaining_usd: usdFromNano(remaining), requested_usd: usdFromNano(requestedNano), window: counter.window },
        },
      },
    );
  }

  function bedrockError(err: BedrockCallError, model: LlmModel): GovernorError {
    switch (err.failure) {
      case "throttled":
        return new GovernorError("bedrock_throttled", `Bedrock throttled ${model.bedrockModelId} (${err.exception}); retry after ${retryAfter} s`, { details: { retry_after_seconds: retryAfter } });
      case "not_enabled":
        return new GovernorError(
          "model_not_enabled",
          `Bedrock refused ${model.bedrockModelId} in ${settings.region} (${err.exception}: ${err.message}); enable access to the model (and its inference profile's regions) in the Bedrock console of the node's account`,
        );
      case "invalid_request":
        return new GovernorError("invalid_request", `Bedrock rejected the request (${err.exception}): ${err.message}`);
      case "timeout":
        return new GovernorError("bedrock_error", `Bedrock timed out (${err.exception})`, { status: 504, errorType: "timeout_error" });
      case "unavailable":
        return new GovernorError("bedrock_error", `Bedrock is unavailable (${err.exception}); retry later`, { status: 529, errorType: "overloaded_error", details: { retry_after_seconds: retryAfter } });
      default:
        return new GovernorError("bedrock_error", `Bedrock failed (${err.exception})`);
    }
  }

  async function messages(request: GovernorRequest, requestId: string): Promise<GovernorResponse> {
    const caller = await callers.resolve(request);
    const body = parseMessagesBody(request.body, maxBody);
    const model = findModel(body.model);
    const startedAt = now();
    const call: Reservation["call"] = {
      callId: requestId,
      computeNodeId: settings.computeNodeId,
      executionId: caller.executionId,
      ...(caller.processorId ? { processorId: caller.processorId } : {}),
      ...(caller.userId ? { userId: caller.userId } : {}),
      model: model?.id ?? body.model,
      bedrockModelId: model?.bedrockModelId ?? "",
      stream: body.stream === true,
      startedAt: startedAt.toISOString(),
    };
    if (!model) {
      const allowed = settings.models.map((m) => m.id);
      const err = new GovernorError("model_not_allowed", `model "${body.model}" is not allowed on node "${settings.computeNodeId}"; allowed: ${allowed.join(", ")}`, { details: { allowed_models: allowed } });
      await refuse(call, err, requestId, caller);
      throw err;
    }
    const bound = costBound(body, model, body.max_tokens);
    const reservation: Reservation = {
      id: requestId,
      counters: budgetCounters(settings.budgets, { computeNodeId: settings.computeNodeId, executionId: caller.executionId, userId: caller.userId }, startedAt),
      amountNano: bound.nano,
      expiresAtMs: startedAt.getTime() + settings.reservationTtlSeconds * 1000,
      call,
    };
    // Bedrock's count of the input, for a request whose size says little (documents): best effort, the bound stands without it.
    const recount = async (): Promise<number | undefined> => {
      const base = splitBedrockId(model.bedrockModelId)?.baseModelId;
      if (!base) return undefined;
      try {
        const counted = await bedrock.countTokens(base, new TextEncoder().encode(JSON.stringify(bedrockBody(body, request.headers["anthropic-beta"]))), request.signal);
        return costBoundFor(body, model, counted, body.max_tokens).nano;
      } catch {
        return undefined;
      }
    };
    try {
      await reserveOrRefuse(reservation, bound.inputTokens > COUNT_TOKENS_ABOVE ? recount : undefined);
    } catch (err) {
      if (err instanceof GovernorError) await refuse(call, err, requestId, caller);
      throw err;
    }

    const controller = new AbortController();
    const onClientGone = () => controller.abort(request.signal.reason);
    request.signal.addEventListener("abort", onClientGone, { once: true });
    const timer = setTimeout(() => controller.abort(new CallTimeout()), settings.callTimeoutSeconds * 1000);
    timer.unref?.();
    const done = () => {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onClientGone);
    };
    const payload = new TextEncoder().encode(JSON.stringify(bedrockBody(body, request.headers["anthropic-beta"])));
    const reservedUsd = usdFromNano(reservation.amountNano);

    const fail = async (err: unknown): Promise<never> => {
      done();
      const aborted = controller.signal.aborted;
      const timedOut = controller.signal.reason instanceof CallTimeout;
      const mapped =
        err instanceof BedrockCallError ? bedrockError(err, model) : timedOut ? new GovernorError("bedrock_error", `the call exceeded ${settings.callTimeoutSeconds} s`, { status: 504, errorType: "timeout_error" }) : undefined;
      const outcome: LlmCallOutcome = aborted && !timedOut ? "client_aborted" : "bedrock_error";
      // Bedrock bills nothing for a call it refused or that failed before answering.
      await store.release(reservation, usageRecord(call, { outcome, reservedUsd, error: mapped?.code ?? (err as Error).name }));
      log({ event: "llm.call", requestId, executionId: caller.executionId, processorId: caller.processorId, model: model.id, outcome, code: mapped?.code, costUsd: 0, reservedUsd });
      throw mapped ?? err;
    };

    if (!body.stream) {
      let response: Record<string, unknown>;
      try {
        response = await bedrock.invoke(model.bedrockModelId, payload, controller.signal);
      } catch (err) {
        return fail(err);
      }
      done();
      const usage = usageOf(response.usage);
      const costNano = usage ? costOf(model.price, usage) : reservation.amountNano;
      const record = usageRecord(call, { ...tokens(usage ?? NO_USAGE), costUsd: usdFromNano(costNano), reservedUsd, usageEstimated: !usage, outcome: "ok" });
      await store.settle({ reservation, costNano, usage: record });
      logCall(requestId, caller, record);
      return json(200, response, { "request-id": requestId, "x-llm-cost-usd": String(record.costUsd) });
    }

    let events: AsyncIterable<Record<string, unknown>>;
    try {
      events = await bedrock.invokeStream(model.bedrockModelId, payload, controller.signal);
    } catch (err) {
      return fail(err);
    }
    return {
      kind: "sse",
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "request-id": requestId, "x-llm-reserved-usd": String(reservedUsd) },
      events: relay(events),
    };

    /** Relays Bedrock's events as SSE while reading their usage; settles however the stream ends. */
    async function* relay(source: AsyncIterable<Record<string, unknown>>): AsyncGenerator<string> {
      const seen = new StreamUsage();
      let outcome: LlmCallOutcome = "client_aborted";
      let error: GovernorError | undefined;
      let settled = false;
      const iterator = source[Symbol.asyncIterator]();
      const settle = async () => {
        if (settled) return;
        settled = true;
        done();
        // Stop Bedrock generating (and billing) once nobody reads the answer.
        if (outcome !== "ok") {
          controller.abort();
          void Promise.resolve(iterator.return?.()).catch(() => undefined);
        }
        const usage = seen.final();
        const costNano = usage ? costOf(model!.price, usage) : reservation.amountNano;
        const record = usageRecord(call, { ...tokens(usage ?? seen.partial()), costUsd: usdFromNano(costNano), reservedUsd, usageEstimated: !usage, outcome, ...(error ? { error: error.code } : {}) });
        await store.settle({ reservation, costNano, usage: record });
        logCall(requestId, caller, record);
      };
      // A read waiting on Bedrock ends as soon as the call is aborted (reader gone, timeout), whether or not the SDK's stream notices.
      const aborted = new Promise<never>((_, reject) => {
        if (controller.signal.aborted) reject(controller.signal.reason);
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
      });
      aborted.catch(() => undefined);
      try {
        try {
          for (;;) {
            const next = await Promise.race([iterator.next(), aborted]);
            if (next.done) break;
            const event = next.value;
            seen.read(event);
            const { ["amazon-bedrock-invocationMetrics"]: _metrics, ...relayed } = event;
            yield sse(String(event.type ?? "message"), relayed);
          }
          outcome = "ok";
        } catch (err) {
          const timedOut = controller.signal.reason instanceof CallTimeout;
          if (!controller.signal.aborted || timedOut) {
            outcome = "stream_error";
            error = err instanceof BedrockCallError ? bedrockError(err, model!) : new GovernorError("bedrock_error", timedOut ? `the call exceeded ${settings.callTimeoutSeconds} s` : "the Bedrock stream failed");
          }
        }
        // Settled before the error event goes out: a client that stops at the error finds its usage recorded.
        await settle();
        if (error) yield sse("error", error.body(requestId));
      } finally {
        // The reader stopped at a yield (it went away): settle what was seen.
        await settle();
      }
    }
  }

  async function refuse(call: Reservation["call"], err: GovernorError, requestId: string, caller: CallerContext) {
    await store.recordRefusal(usageRecord(call, { outcome: "refused", error: err.code }));
    log({ event: "llm.refused", requestId, executionId: caller.executionId, processorId: caller.processorId, model: call.model, code: err.code });
  }

  function logCall(requestId: string, caller: CallerContext, record: LlmUsageRecord) {
    log({
      event: "llm.call",
      requestId,
      executionId: caller.executionId,
      processorId: caller.processorId,
      model: record.model,
      outcome: record.outcome,
      ...(record.error ? { code: record.error } : {}),
      costUsd: record.costUsd,
      reservedUsd: record.reservedUsd,
      inputTokens: record.inputTokens + record.cacheCreationInputTokens + record.cacheReadInputTokens,
      outputTokens: record.outputTokens,
      latencyMs: record.latencyMs,
    });
  }

  async function budget(request: GovernorRequest): Promise<GovernorResponse> {
    const caller = await callers.resolveIfNamed(request);
    const at = now();
    // What remains should not count reservations a crashed governor left behind.
    const freed = await store.sweepExpired(at);
    if (freed > 0) log({ event: "llm.sweep", freed });
    const counters = budgetCounters(settings.budgets, { computeNodeId: settings.computeNodeId, executionId: caller?.executionId ?? "-", userId: caller?.userId }, at).filter(
      (c) => caller || c.level === "nodeDaily" || c.level === "nodeMonthly",
    );
    const states = await store.counters(counters.map((c) => c.key));
    return json(200, {
      type: "budget",
      currency: "USD",
      computed_at: at.toISOString(),
      execution_id: caller?.executionId ?? null,
      user_id: caller?.userId ?? null,
      levels: counters.map((c) => {
        const s = states.get(c.key) ?? { committedNano: 0, spentNano: 0 };
        return {
          level: c.level,
          config_key: BUDGET_CONFIG_KEYS[c.level],
          window: c.window,
          cap_usd: usdFromNano(c.capNano),
          spent_usd: usdFromNano(s.spentNano),
          reserved_usd: usdFromNano(s.committedNano - s.spentNano),
          remaining_usd: usdFromNano(Math.max(0, c.capNano - s.committedNano)),
        };
      }),
    });
  }

  /** `POST /v1/messages/count_tokens`: Bedrock's CountTokens (free, so nothing is reserved or charged). */
  async function countTokens(request: GovernorRequest, requestId: string): Promise<GovernorResponse> {
    await callers.authorize(request);
    const body = parseMessagesBody(request.body, maxBody, { maxTokensRequired: false });
    const model = findModel(body.model);
    if (!model) throw new GovernorError("model_not_allowed", `model "${body.model}" is not allowed on node "${settings.computeNodeId}"; allowed: ${settings.models.map((m) => m.id).join(", ")}`, { details: { allowed_models: settings.models.map((m) => m.id) } });
    const base = splitBedrockId(model.bedrockModelId)?.baseModelId;
    if (!base) throw new GovernorError("invalid_request", `token counting is not available for ${model.bedrockModelId} (an application inference profile)`);
    try {
      // The InvokeModel body CountTokens takes requires max_tokens, which counting ignores.
      const payload = new TextEncoder().encode(JSON.stringify(bedrockBody({ ...body, max_tokens: body.max_tokens ?? 1 }, request.headers["anthropic-beta"])));
      return json(200, { input_tokens: await bedrock.countTokens(base, payload, request.signal) }, { "request-id": requestId });
    } catch (err) {
      if (err instanceof BedrockCallError) throw bedrockError(err, model);
      throw err;
    }
  }

  function modelInfo(m: LlmModel) {
    return {
      type: "model",
      id: m.id,
      display_name: m.displayName,
      // The Models API allows an epoch value when the release date is unknown.
      created_at: "1970-01-01T00:00:00Z",
      bedrock_model_id: m.bedrockModelId,
      pricing: { currency: "USD", unit: "per million tokens", input: m.price.inputPerMTok, output: m.price.outputPerMTok, cache_write_5m: m.price.cacheWrite5mPerMTok, cache_write_1h: m.price.cacheWrite1hPerMTok, cache_read: m.price.cacheReadPerMTok, source: m.price.source, retrieved: m.price.retrieved },
    };
  }

  return {
    async handle(request) {
      const requestId = `req_${newId()}`;
      try {
        const path = request.path.replace(/\/+$/, "") || "/";
        if (request.method === "POST" && path === "/v1/messages") return await messages(request, requestId);
        if (request.method === "POST" && path === "/v1/messages/count_tokens") return await countTokens(request, requestId);
        if (request.method === "GET" && path === "/v1/models") {
          await callers.authorize(request);
          const data = settings.models.map(modelInfo);
          return json(200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null });
        }
        const single = /^\/v1\/models\/([^/]+)$/.exec(path);
        if (request.method === "GET" && single) {
          await callers.authorize(request);
          const model = findModel(decodeURIComponent(single[1]));
          if (!model) throw new GovernorError("not_found", `model "${decodeURIComponent(single[1])}" is not allowed on this node; allowed: ${settings.models.map((m) => m.id).join(", ")}`);
          return json(200, modelInfo(model));
        }
        if (request.method === "GET" && path === "/v1/budget") return await budget(request);
        throw new GovernorError("not_found", `${request.method} ${path} is not part of this API (POST /v1/messages, POST /v1/messages/count_tokens, GET /v1/models, GET /v1/budget)`);
      } catch (err) {
        if (err instanceof GovernorError) return json(err.status, err.body(requestId), { "request-id": requestId, ...err.headers() });
        throw err;
      }
    },
  };
}

class CallTimeout extends Error {
  override name = "CallTimeout";
}

function describeLevel(level: BudgetLevel): string {
  return { nodeDaily: "node's daily", nodeMonthly: "node's monthly", execution: "execution's", userDaily: "user's daily", userMonthly: "user's monthly" }[level];
}

/** Checks the fields the governor relies on; Bedrock validates the rest. Messages name the field, never the prompt. */
export function parseMessagesBody(raw: string | undefined, maxBytes: number, options: { maxTokensRequired: boolean } = { maxTokensRequired: true }): MessagesBody {
  if (!raw) throw new GovernorError("invalid_request", "the request has no body; send a Messages API request as JSON");
  if (Buffer.byteLength(raw, "utf8") > maxBytes) throw new GovernorError("invalid_request", `the request is larger than ${maxBytes} bytes`, { status: 413, errorType: "request_too_large" });
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new GovernorError("invalid_request", "the body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new GovernorError("invalid_request", "the body must be a JSON object");
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof b.model !== "string" || !b.model) problems.push("model: required, a model id such as claude-haiku-4-5");
  if ((options.maxTokensRequired || b.max_tokens !== undefined) && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) problems.push(`max_tokens: required, a whole number of at least 1 (got ${typeof b.max_tokens === "number" ? b.max_tokens : typeof b.max_tokens})`);
  if (!Array.isArray(b.messages) || b.messages.length === 0) problems.push("messages: required, a non-empty array");
  if (b.stream !== undefined && typeof b.stream !== "boolean") problems.push(`stream: must be true or false (got ${typeof b.stream})`);
  if (problems.length) throw new GovernorError("invalid_request", problems.join("; "));
  return b as MessagesBody;
}

/** The Anthropic-on-Bedrock body: the Messages request without `model` and `stream`, with `anthropic_version` and the beta header as `anthropic_beta`. */
export function bedrockBody(body: MessagesBody, betaHeader: string | undefined): Record<string, unknown> {
  const { model: _model, stream: _stream, ...rest } = body;
  const betas = [...(Array.isArray(rest.anthropic_beta) ? (rest.anthropic_beta as string[]) : []), ...(betaHeader ? betaHeader.split(",").map((s) => s.trim()).filter(Boolean) : [])];
  return { anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest, ...(betas.length ? { anthropic_beta: [...new Set(betas)] } : {}) };
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function tokens(usage: TokenUsage): Pick<LlmUsageRecord, "inputTokens" | "outputTokens" | "cacheCreationInputTokens" | "cacheReadInputTokens"> {
  return { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, cacheCreationInputTokens: usage.cacheCreationInputTokens, cacheReadInputTokens: usage.cacheReadInputTokens };
}

/** The Messages API's `usage` object, or undefined when the response has none (it is then charged at its reservation). */
export function usageOf(value: unknown): TokenUsage | undefined {
  if (!value || typeof value !== "object") return undefined;
  const u = value as Record<string, unknown>;
  if (typeof u.input_tokens !== "number" || typeof u.output_tokens !== "number") return undefined;
  const n = (v: unknown) => (typeof v === "number" && v > 0 ? v : 0);
  const creation = u.cache_creation as Record<string, unknown> | undefined;
  return {
    inputTokens: n(u.input_tokens),
    outputTokens: n(u.output_tokens),
    cacheCreationInputTokens: n(u.cache_creation_input_tokens),
    cacheCreation1hInputTokens: n(creation?.ephemeral_1h_input_tokens),
    cacheReadInputTokens: n(u.cache_read_input_tokens),
  };
}

/**
 * Usage read from a stream: `message_start` holds the input side (and the first output tokens),
 * `message_delta` the cumulative output (newer API versions repeat the input side there), and
 * Bedrock adds its own counts to `message_stop`. Without a closing count the call's output is unknown.
 */
class StreamUsage {
  private start?: TokenUsage;
  private delta?: Record<string, unknown>;
  private metrics?: { inputTokenCount?: number; outputTokenCount?: number };

  read(event: Record<string, unknown>) {
    if (event.type === "message_start") this.start = usageOf({ output_tokens: 0, ...(((event.message as Record<string, unknown>)?.usage as object) ?? {}) });
    else if (event.type === "message_delta" && event.usage && typeof event.usage === "object") this.delta = { ...this.delta, ...(event.usage as Record<string, unknown>) };
    else if (event.type === "message_stop" && event["amazon-bedrock-invocationMetrics"]) this.metrics = event["amazon-bedrock-invocationMetrics"] as typeof this.metrics;
  }

  /** The call's usage once the stream reported its final output count. */
  final(): TokenUsage | undefined {
    const output = typeof this.delta?.output_tokens === "number" ? (this.delta.output_tokens as number) : this.metrics?.outputTokenCount;
    if (output === undefined || (!this.start && this.metrics?.inputTokenCount === undefined)) return undefined;
    const start = this.start ?? { ...NO_USAGE, inputTokens: this.metrics?.inputTokenCount ?? 0 };
    const n = (key: string, fallback: number) => (typeof this.delta?.[key] === "number" ? (this.delta[key] as number) : fallback);
    return {
      inputTokens: n("input_tokens", start.inputTokens),
      outputTokens: Math.max(output, start.outputTokens),
      cacheCreationInputTokens: n("cache_creation_input_tokens", start.cacheCreationInputTokens),
      cacheCreation1hInputTokens: start.cacheCreation1hInputTokens,
      cacheReadInputTokens: n("cache_read_input_tokens", start.cacheReadInputTokens),
    };
  }

  /** What was seen of an incomplete stream (for the usage record; the charge is the reservation). */
  partial(): TokenUsage {
    return this.start ?? NO_USAGE;
  }
}
