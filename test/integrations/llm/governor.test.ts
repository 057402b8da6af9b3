import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { BudgetLevel, LlmUsageRecord, NANO_PER_USD } from "../../../lib/integrations/llm/contract";
import { LlmConfig } from "../../../lib/integrations/llm/local";
import { GovernorLogEntry } from "../../../lib/integrations/llm/local";
import { HAIKU_PROFILE, Harness, SONNET_PROFILE, startHarness } from "./harness";

const HAIKU = { "claude-haiku-4-5": HAIKU_PROFILE };
const hello = [{ role: "user" as const, content: "Say hello." }];

/** The error a call rejects with (fails the test when it resolves). */
async function rejection(call: Promise<unknown>): Promise<APIError> {
  const outcome = await call.then(() => undefined, (e: unknown) => e);
  if (!outcome) throw new Error("expected the call to be refused");
  if (!(outcome instanceof APIError)) throw outcome;
  return outcome;
}

type ErrorBody = { error: { type: string; code: string; message: string; details: { error_code: string; allowed_models?: string[]; budget?: { level: BudgetLevel; remaining_usd: number; cap_usd: number; requested_usd: number }; retry_after_seconds?: number } } };
const bodyOf = (err: APIError) => err.error as ErrorBody;

/** Resolves with the first log entry matching `test` (now or later): waits on the event, never on a timer. */
function logged(h: Harness, test: (e: GovernorLogEntry) => boolean): Promise<GovernorLogEntry> {
  const found = h.logs.find(test);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const push = h.logs.push.bind(h.logs);
    h.logs.push = (...entries: GovernorLogEntry[]) => {
      const n = push(...entries);
      const hit = entries.find(test);
      if (hit) resolve(hit);
      return n;
    };
  });
}

const usageOf = async (h: Harness, executionId?: string): Promise<LlmUsageRecord[]> => h.governor.store.usage({ executionId, until: new Date("2100-01-01T00:00:00Z") });

describe("LLM governor (Anthropic Messages API in front of Bedrock)", function () {
  this.timeout(30000);
  let h: Harness;
  const start = async (config: LlmConfig) => (h = await startHarness(config));
  afterEach(async () => h?.close());

  it("answers a Messages API call from the official SDK through Bedrock and records its usage and cost", async () => {
    await start({ allowedModels: HAIKU });
    h.bedrock.behaviours.set("*", { text: "Hello there.", usage: { input_tokens: 1000, output_tokens: 500, cache_read_input_tokens: 2000, cache_creation_input_tokens: 400 } });
    const message = await h.client({ executionId: "wi-a", processorId: "summarize" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 800, messages: hello, system: "be brief" });

    expect(message.content).to.deep.equal([{ type: "text", text: "Hello there." }]);
    // Anthropic-on-Bedrock body: no model or stream, the Bedrock version, the rest as sent.
    expect(h.bedrock.calls).to.have.length(1);
    expect(h.bedrock.calls[0]).to.deep.include({ operation: "invoke", modelId: HAIKU_PROFILE });
    expect(h.bedrock.calls[0].body).to.deep.equal({ anthropic_version: "bedrock-2023-05-31", max_tokens: 800, messages: hello, system: "be brief" });
    // Regional (us.) Haiku 4.5: $1.10 in, $5.50 out, $1.375 5-minute cache write, $0.11 cache read per MTok.
    const expected = (1000 * 1.1 + 500 * 5.5 + 400 * 1.375 + 2000 * 0.11) / 1e6;
    const [record] = await usageOf(h, "wi-a");
    expect(record).to.deep.include({ executionId: "wi-a", processorId: "summarize", model: "claude-haiku-4-5", bedrockModelId: HAIKU_PROFILE, stream: false, outcome: "ok", usageEstimated: false });
    expect(record).to.deep.include({ inputTokens: 1000, outputTokens: 500, cacheCreationInputTokens: 400, cacheReadInputTokens: 2000 });
    expect(record.costUsd).to.be.closeTo(expected, 1e-9);
    expect(record.reservedUsd).to.be.greaterThan(record.costUsd);
    const totals = await h.governor.store.executionTotals("wi-a");
    expect(totals).to.deep.include({ calls: 1, inputTokens: 1000, outputTokens: 500, reservedUsd: 0 });
    expect(totals.costUsd).to.be.closeTo(expected, 1e-9);
    expect(totals.byModel["claude-haiku-4-5"]).to.deep.include({ calls: 1, inputTokens: 3400, outputTokens: 500 });
  });

  it("streams server-sent events the SDK reads, and settles the usage the stream reported", async () => {
    await start({ allowedModels: HAIKU });
    h.bedrock.behaviours.set("*", { text: "one two three four", usage: { input_tokens: 1200, output_tokens: 345 } });
    const client = h.client({ executionId: "wi-s" });
    const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: 4000, messages: hello });
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const final = await stream.finalMessage();

    expect(deltas.join("")).to.equal("one two three four");
    expect(final.usage.output_tokens).to.equal(345);
    expect(h.bedrock.calls[0].operation).to.equal("invoke-with-response-stream");
    const [record] = await usageOf(h, "wi-s");
    expect(record).to.deep.include({ stream: true, outcome: "ok", inputTokens: 1200, outputTokens: 345, usageEstimated: false });
    expect(record.costUsd).to.be.closeTo((1200 * 1.1 + 345 * 5.5) / 1e6, 1e-9);
    // What was reserved for 4,000 output tokens went back: only the real cost stays committed.
    const budget = (await (await fetch(`${h.governor.url}/v1/budget`, { headers: { "x-execution-id": "wi-s" } })).json()) as { levels: { level: string; spent_usd: number; reserved_usd: number }[] };
    const execution = budget.levels.find((l) => l.level === "execution")!;
    expect(execution.reserved_usd).to.equal(0);
    expect(execution.spent_usd).to.be.closeTo(record.costUsd, 1e-9);
  });

  it("maps the Anthropic ids processors name, dated or not, to the node's Bedrock profiles, and lists only those", async () => {
    await start({ allowedModels: { ...HAIKU, "claude-sonnet-4-5": SONNET_PROFILE } });
    const client = h.client();
    await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: hello });
    await client.messages.create({ model: "claude-haiku-4-5-20251001", max_tokens: 10, messages: hello });
    expect(h.bedrock.calls.map((c) => c.modelId)).to.deep.equal([SONNET_PROFILE, HAIKU_PROFILE]);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).to.deep.equal(["claude-haiku-4-5", "claude-sonnet-4-5"]);
    expect(models.data[0]).to.deep.include({ display_name: "Claude Haiku 4.5" });
  });

  it("refuses a model outside the allow-list, naming the allowed ones, without calling Bedrock", async () => {
    await start({ allowedModels: HAIKU });
    const err = await rejection(h.client({ executionId: "wi-m" }).messages.create({ model: "claude-opus-4-6", max_tokens: 10, messages: hello }));
    expect(err).to.be.instanceOf(Anthropic.PermissionDeniedError);
    expect(bodyOf(err).error).to.deep.include({ type: "permission_error", code: "model_not_allowed" });
    expect(bodyOf(err).error.details.allowed_models).to.deep.equal(["claude-haiku-4-5"]);
    expect(err.errorCode).to.equal("model_not_allowed");
    expect(bodyOf(err).error.message).to.contain('"claude-opus-4-6"').and.contain("claude-haiku-4-5");
    expect(err.headers?.get("x-should-retry")).to.equal("false");
    expect(h.bedrock.calls).to.deep.equal([]);
    expect((await usageOf(h, "wi-m")).map((r) => [r.outcome, r.error])).to.deep.equal([["refused", "model_not_allowed"]]);
  });

  it("counts tokens through Bedrock's CountTokens for the SDK's countTokens, charging nothing", async () => {
    await start({ allowedModels: HAIKU });
    h.bedrock.behaviours.set("*", { countTokens: 1234 });
    const counted = await h.client().messages.countTokens({ model: "claude-haiku-4-5", messages: hello, system: "brief" });
    expect(counted.input_tokens).to.equal(1234);
    expect(h.bedrock.calls.map((c) => [c.operation, c.modelId])).to.deep.equal([["count-tokens", "anthropic.claude-haiku-4-5-20251001-v1:0"]]);
    expect(h.bedrock.calls[0].body).to.deep.include({ anthropic_version: "bedrock-2023-05-31", system: "brief" });
    expect(await usageOf(h)).to.deep.equal([]);
  });

  it("reserves a large document by Bedrock's count of it when its size-based bound does not fit the budget", async () => {
    await start({ allowedModels: HAIKU, budgets: { executionUsd: 0.05 } });
    h.bedrock.behaviours.set("*", { countTokens: 3000, usage: { input_tokens: 3000, output_tokens: 100 } });
    const pdf = { type: "document" as const, source: { type: "base64" as const, media_type: "application/pdf" as const, data: Buffer.alloc(600_000, 1).toString("base64") } };
    // Bounded by the context window (200k tokens at $1.10 per MTok is $0.22): more than the $0.05 budget, yet the document holds 3,000 tokens.
    await h.client({ executionId: "wi-doc" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 500, messages: [{ role: "user", content: [pdf, { type: "text", text: "Summarise." }] }] });
    expect(h.bedrock.calls.map((c) => c.operation)).to.deep.equal(["count-tokens", "invoke"]);
    const [record] = await usageOf(h, "wi-doc");
    expect(record.reservedUsd).to.be.closeTo((3000 * 1.1 + 500 * 5.5) / 1e6, 1e-9);
    expect(record.costUsd).to.be.closeTo((3000 * 1.1 + 100 * 5.5) / 1e6, 1e-9);
  });

  it("refuses malformed requests and requests that name no execution, with invalid_request codes", async () => {
    await start({ allowedModels: HAIKU });
    const post = (body: string, headers: Record<string, string> = { "x-execution-id": "wi-x" }) =>
      fetch(`${h.governor.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }).then(async (r) => ({ status: r.status, body: (await r.json()) as ErrorBody }));
    const broken = await post("{not json");
    expect(broken.status).to.equal(400);
    expect(broken.body.error).to.deep.include({ type: "invalid_request_error", code: "invalid_request" });
    const incomplete = await post(JSON.stringify({ model: "claude-haiku-4-5", messages: hello }));
    expect(incomplete.body.error.message).to.contain("max_tokens");
    const anonymous = await post(JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: hello }), {});
    expect(anonymous.status).to.equal(400);
    expect(anonymous.body.error.code).to.equal("execution_required");
    expect(anonymous.body.error.message).to.contain("x-execution-id");
    expect(h.bedrock.calls).to.deep.equal([]);
  });

  describe("budgets", () => {
    // $1.05 a call at most and at least (no input price; the stand-in always writes max_tokens), against a $2 cap: one call fits, never two.
    const OUT_PRICE = 1050;
    const priced = (budgets: LlmConfig["budgets"]): LlmConfig => ({ allowedModels: HAIKU, budgets, prices: { [HAIKU_PROFILE]: { inputPerMTok: 0, outputPerMTok: OUT_PRICE } } });
    const roomy = { nodeDailyUsd: 1000, nodeMonthlyUsd: 1000, executionUsd: 1000, userDailyUsd: 1000, userMonthlyUsd: 1000 };
    const keyOf: Record<BudgetLevel, keyof typeof roomy> = { nodeDaily: "nodeDailyUsd", nodeMonthly: "nodeMonthlyUsd", execution: "executionUsd", userDaily: "userDailyUsd", userMonthly: "userMonthlyUsd" };
    const call = (scope: { executionId?: string; userId?: string }) => h.client({ userId: "u-1", ...scope }).messages.create({ model: "claude-haiku-4-5", max_tokens: 1000, messages: hello });

    for (const level of Object.keys(keyOf) as BudgetLevel[]) {
      it(`holds the ${keyOf[level]} cap when 40 calls race for it: one is settled, the rest are refused naming the budget`, async () => {
        await start(priced({ ...roomy, [keyOf[level]]: 2 }));
        h.bedrock.behaviours.set("*", { usage: { input_tokens: 50, output_tokens: 1000 } });
        const outcomes = await Promise.all(Array.from({ length: 40 }, () => call({ executionId: "wi-race" }).then(() => "ok", (e: APIError) => e)));
        const refused = outcomes.filter((o): o is APIError => o !== "ok");
        expect(outcomes.filter((o) => o === "ok")).to.have.length(1);
        for (const err of refused) {
          expect(err.status).to.equal(402);
          expect(bodyOf(err).error).to.deep.include({ type: "billing_error", code: "budget_exceeded" });
          expect(bodyOf(err).error.details.budget).to.deep.include({ level, cap_usd: 2 });
        }
        const settled = (await usageOf(h)).filter((r) => r.outcome === "ok");
        const spent = settled.reduce((sum, r) => sum + r.costUsd, 0);
        expect(spent).to.be.closeTo(1.05, 1e-9);
        expect(spent).to.be.at.most(2);
        expect(h.bedrock.calls).to.have.length(1);
      });
    }

    it("keeps the sum of settled costs under a cap when calls cost less than they reserve", async () => {
      await start(priced({ ...roomy, executionUsd: 2 }));
      // Each call reserves $1.05 and settles $0.42: how many fit depends on the interleaving, never past the cap.
      h.bedrock.behaviours.set("*", { usage: { input_tokens: 50, output_tokens: 400 } });
      for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 12 }, () => call({ executionId: "wi-near" }).catch(() => undefined)));
      const settled = (await usageOf(h, "wi-near")).filter((r) => r.outcome === "ok");
      const spent = settled.reduce((sum, r) => sum + r.costUsd, 0);
      expect(settled.length).to.be.at.least(2);
      expect(spent).to.be.at.most(2 + 1e-9);
      expect((await h.governor.store.executionTotals("wi-near")).costUsd).to.be.closeTo(spent, 1e-9);
    });

    it("scopes each cap: another execution, another user, the next day and the next month get their own", async () => {
      await start(priced({ ...roomy, executionUsd: 1.5, userDailyUsd: 3, nodeDailyUsd: 4, nodeMonthlyUsd: 6 }));
      h.bedrock.behaviours.set("*", { usage: { input_tokens: 50, output_tokens: 1000 } });
      await call({ executionId: "wi-1" });
      expect(bodyOf(await rejection(call({ executionId: "wi-1" }))).error.details.budget!.level).to.equal("execution");
      await call({ executionId: "wi-2" });
      expect(bodyOf(await rejection(call({ executionId: "wi-3" }))).error.details.budget!.level).to.equal("userDaily");
      await call({ executionId: "wi-3", userId: "u-2" });
      expect(bodyOf(await rejection(call({ executionId: "wi-4", userId: "u-3" }))).error.details.budget!.level).to.equal("nodeDaily");
      h.clock.advance(24 * 3600 * 1000);
      await call({ executionId: "wi-5", userId: "u-3" });
      await call({ executionId: "wi-6", userId: "u-4" });
      // $6.30 would pass the month's $6: refused until the month changes (2026-12-02 + 30 days is January).
      const monthly = bodyOf(await rejection(call({ executionId: "wi-7", userId: "u-5" }))).error.details.budget!;
      expect(monthly).to.deep.include({ level: "nodeMonthly", cap_usd: 6 });
      expect(monthly.remaining_usd).to.be.closeTo(6 - 5 * 1.05, 1e-9);
      h.clock.advance(30 * 24 * 3600 * 1000);
      await call({ executionId: "wi-8", userId: "u-5" });
    });

    it("says what the call could cost and what to change when one call is larger than a whole cap", async () => {
      await start(priced({ ...roomy, executionUsd: 1 }));
      const err = await rejection(call({ executionId: "wi-big" }));
      expect(bodyOf(err).error.details.budget).to.deep.include({ level: "execution", cap_usd: 1, remaining_usd: 1, requested_usd: 1.05 });
      expect(bodyOf(err).error.message).to.contain("executionUsd").and.contain("lower max_tokens");
      expect(h.bedrock.calls).to.deep.equal([]);
    });

    it("frees a reservation a crashed governor left behind once it expires, recording the abandoned call", async () => {
      await start(priced({ ...roomy, executionUsd: 2 }));
      const now = h.clock.now();
      // What a governor that died mid-call leaves: a reservation, never settled or released.
      await h.governor.store.reserve({
        id: "crashed",
        counters: (await import("../../../lib/integrations/llm/store")).budgetCounters(h.governor.settings.budgets, { computeNodeId: "local", executionId: "wi-crash", userId: "u-1" }, now),
        amountNano: 1.5 * NANO_PER_USD,
        expiresAtMs: now.getTime() + h.governor.settings.reservationTtlSeconds * 1000,
        call: { callId: "crashed", computeNodeId: "local", executionId: "wi-crash", model: "claude-haiku-4-5", bedrockModelId: HAIKU_PROFILE, stream: true, startedAt: now.toISOString() },
      });
      h.bedrock.behaviours.set("*", { usage: { input_tokens: 50, output_tokens: 1000 } });
      expect(bodyOf(await rejection(call({ executionId: "wi-crash" }))).error.details.budget!.remaining_usd).to.be.closeTo(0.5, 1e-9);

      h.clock.advance(h.governor.settings.reservationTtlSeconds * 1000 + 1);
      await call({ executionId: "wi-crash" });
      const records = await usageOf(h, "wi-crash");
      expect(records.map((r) => r.outcome).sort()).to.deep.equal(["abandoned", "ok", "refused"]);
      expect(records.find((r) => r.outcome === "abandoned")).to.deep.include({ callId: "crashed", costUsd: 0, reservedUsd: 1.5, usageEstimated: true });
      expect((await h.governor.store.executionTotals("wi-crash")).reservedUsd).to.equal(0);
    });
  });

  describe("Bedrock failures", () => {
    it("passes Bedrock throttling on as a 429 with retry-after and gives the reservation back", async () => {
      await start({ allowedModels: HAIKU });
      h.bedrock.behaviours.set("*", { error: { status: 429, exception: "ThrottlingException", message: "Too many requests, please wait before trying again." } });
      const err = await rejection(h.client({ executionId: "wi-t" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: hello }));
      expect(err).to.be.instanceOf(Anthropic.RateLimitError);
      expect(err.headers?.get("retry-after")).to.equal("5");
      expect(bodyOf(err).error).to.deep.include({ type: "rate_limit_error", code: "bedrock_throttled" });
      expect(bodyOf(err).error.details.retry_after_seconds).to.equal(5);
      const totals = await h.governor.store.executionTotals("wi-t");
      expect(totals).to.deep.include({ costUsd: 0, reservedUsd: 0 });
      expect((await usageOf(h, "wi-t")).map((r) => [r.outcome, r.error, r.costUsd])).to.deep.equal([["bedrock_error", "bedrock_throttled", 0]]);
    });

    it("says the model is not enabled when Bedrock denies access to it, and gives the reservation back", async () => {
      await start({ allowedModels: HAIKU });
      h.bedrock.behaviours.set("*", { error: { status: 403, exception: "AccessDeniedException", message: "You don't have access to the model with the specified model ID." } });
      const err = await rejection(h.client({ executionId: "wi-d" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: hello }));
      expect(err).to.be.instanceOf(Anthropic.PermissionDeniedError);
      expect(bodyOf(err).error.code).to.equal("model_not_enabled");
      expect(bodyOf(err).error.message).to.contain(HAIKU_PROFILE).and.contain("Bedrock console");
      expect(await h.governor.store.executionTotals("wi-d")).to.deep.include({ costUsd: 0, reservedUsd: 0 });
    });

    it("ends a stream Bedrock breaks off with an error event, charging the reservation since the usage is unknown", async () => {
      await start({ allowedModels: HAIKU });
      h.bedrock.behaviours.set("*", { text: "a b c d e f", streamErrorAfter: { events: 3, exception: "throttlingException" } });
      const stream = await h.client({ executionId: "wi-e" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: hello, stream: true });
      const seen: string[] = [];
      const err = await (async () => {
        try {
          for await (const event of stream) seen.push(event.type);
        } catch (e) {
          return e as APIError;
        }
        throw new Error("the stream ended without its error");
      })();
      expect(seen.slice(0, 2)).to.deep.equal(["message_start", "content_block_start"]);
      expect((err.error as ErrorBody).error).to.deep.include({ code: "bedrock_throttled" });
      const [record] = await usageOf(h, "wi-e");
      expect(record).to.deep.include({ outcome: "stream_error", error: "bedrock_throttled", usageEstimated: true });
      expect(record.costUsd).to.equal(record.reservedUsd);
    });

    it("stops reading Bedrock when the processor goes away mid-stream, and charges the reservation", async () => {
      await start({ allowedModels: HAIKU });
      let resume!: () => void;
      h.bedrock.behaviours.set("*", { text: "never fully read", pause: { after: 3, until: new Promise<void>((r) => (resume = r)) } });
      const stream = await h.client({ executionId: "wi-gone" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 100, messages: hello, stream: true });
      for await (const event of stream) if (event.type === "content_block_start") break;
      const entry = await logged(h, (e) => e.event === "llm.call" && e.executionId === "wi-gone");
      // The governor hung up on Bedrock, which stops generating (and billing) the rest.
      await h.bedrock.firstCutOff;
      expect(h.bedrock.streamsCutOff).to.equal(1);
      resume();
      expect(entry.outcome).to.equal("client_aborted");
      const [record] = await usageOf(h, "wi-gone");
      expect(record).to.deep.include({ outcome: "client_aborted", usageEstimated: true });
      expect(record.costUsd).to.equal(record.reservedUsd);
    });
  });

  it("answers GET /v1/budget with what each level has spent, holds and has left", async () => {
    await start({ allowedModels: HAIKU, budgets: { executionUsd: 1, userDailyUsd: 1.5 } });
    await h.client({ executionId: "wi-b", userId: "u-9" }).messages.create({ model: "claude-haiku-4-5", max_tokens: 50, messages: hello });
    const res = await fetch(`${h.governor.url}/v1/budget`, { headers: { "x-execution-id": "wi-b", "x-user-id": "u-9" } });
    const body = (await res.json()) as { levels: { level: string; config_key: string; cap_usd: number; spent_usd: number; remaining_usd: number; window: string }[] };
    expect(body.levels.map((l) => [l.level, l.config_key, l.window])).to.deep.equal([
      ["nodeDaily", "nodeDailyUsd", "2026-12-02"],
      ["nodeMonthly", "nodeMonthlyUsd", "2026-12"],
      ["execution", "executionUsd", "lifetime"],
      ["userDaily", "userDailyUsd", "2026-12-02"],
      ["userMonthly", "userMonthlyUsd", "2026-12"],
    ]);
    const cost = (100 * 1.1 + 20 * 5.5) / 1e6;
    for (const l of body.levels) expect(l.spent_usd).to.be.closeTo(cost, 1e-12);
    expect(body.levels.find((l) => l.level === "execution")!.remaining_usd).to.be.closeTo(1 - cost, 1e-12);
    const nodeOnly = (await (await fetch(`${h.governor.url}/v1/budget`)).json()) as { levels: unknown[] };
    expect(nodeOnly.levels).to.have.length(2);
  });

  it("never writes a prompt, a response or a key to its log or its usage files", async () => {
    await start({ allowedModels: HAIKU });
    h.bedrock.behaviours.set("*", { text: "ANSWER-7f3a the model's private reply" });
    const client = new Anthropic({ baseURL: h.governor.url, apiKey: "sk-KEY-5c1e-secret", maxRetries: 0, defaultHeaders: { "x-execution-id": "wi-p" } });
    await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "PROMPT-91bd patient record" }], system: "SYSTEM-44aa" });
    for await (const event of await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 50, stream: true, messages: [{ role: "user", content: "PROMPT-91bd again" }] })) expect(event.type).to.be.a("string");
    await rejection(client.messages.create({ model: "claude-opus-4-6", max_tokens: 50, messages: [{ role: "user", content: "PROMPT-91bd refused" }] }));

    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
    const written = [JSON.stringify(h.logs), ...files(h.dir).map((f) => readFileSync(f, "utf8"))].join("\n");
    expect(h.logs.length).to.be.at.least(3);
    for (const secret of ["PROMPT-91bd", "SYSTEM-44aa", "ANSWER-7f3a", "sk-KEY-5c1e-secret"]) expect(written).to.not.contain(secret);
  });
});
