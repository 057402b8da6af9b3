import { expect } from "chai";
import fc from "fast-check";
import { ModelPrice } from "../../../lib/integrations/llm/contract";
import { costBound, costOf, inputTokenBound, NO_USAGE } from "../../../lib/integrations/llm/cost";

const haiku: ModelPrice = { inputPerMTok: 1, outputPerMTok: 5, cacheWrite5mPerMTok: 1.25, cacheWrite1hPerMTok: 2, cacheReadPerMTok: 0.1, source: "test", retrieved: "2026-12-02" };
const sonnet45: ModelPrice = { ...haiku, inputPerMTok: 3, outputPerMTok: 15, cacheWrite5mPerMTok: 3.75, cacheWrite1hPerMTok: 6, cacheReadPerMTok: 0.3, longContext: { aboveInputTokens: 200_000, inputPerMTok: 6, outputPerMTok: 22.5 } };
const nano = (usd: number) => Math.round(usd * 1e9);

describe("LLM call cost", () => {
  it("prices input, output, 5-minute and 1-hour cache writes and cache reads at their own rates", () => {
    const usage = { inputTokens: 1000, outputTokens: 500, cacheCreationInputTokens: 3000, cacheCreation1hInputTokens: 1000, cacheReadInputTokens: 10_000 };
    // 1000 × $1 + 2000 × $1.25 + 1000 × $2 + 10000 × $0.10 + 500 × $5, per million
    expect(costOf(haiku, usage)).to.equal(nano((1000 + 2500 + 2000 + 1000 + 2500) / 1e6));
    expect(costOf(haiku, NO_USAGE)).to.equal(0);
  });

  it("switches to long-context rates past the threshold, counting cached tokens as prompt", () => {
    const usage = { inputTokens: 150_000, outputTokens: 1000, cacheCreationInputTokens: 0, cacheCreation1hInputTokens: 0, cacheReadInputTokens: 60_000 };
    // 210k prompt tokens > 200k: input $6, output $22.50, cache reads scale with the input rate ($0.60).
    expect(costOf(sonnet45, usage)).to.equal(nano((150_000 * 6 + 60_000 * 0.6 + 1000 * 22.5) / 1e6));
  });

  it("bounds input by the request's size, images by a per-image allowance, and everything by the context window", () => {
    const text = "x".repeat(10_000);
    const bound = inputTokenBound({ messages: [{ role: "user", content: text }] }, 200_000);
    expect(bound).to.be.at.least(10_000).and.below(10_600);
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "A".repeat(4_000_000) } };
    const withImage = inputTokenBound({ messages: [{ role: "user", content: [image, { type: "text", text: "what is this?" }] }] }, 200_000);
    expect(withImage).to.be.below(10_000);
    const pdf = { type: "document", source: { type: "base64", media_type: "application/pdf", data: "A".repeat(4_000_000) } };
    expect(inputTokenBound({ messages: [{ role: "user", content: [pdf] }] }, 200_000)).to.equal(200_000);
  });

  it("reserves input at the cache-write rate when the request asks for caching (the dearest rate it may be billed)", () => {
    const plain = { messages: [{ role: "user", content: "hi" }] };
    const cached = { system: [{ type: "text", text: "long", cache_control: { type: "ephemeral", ttl: "1h" } }], messages: plain.messages };
    const model = { price: haiku, contextWindowTokens: 200_000 };
    const a = costBound(plain, model, 0);
    const b = costBound(cached, model, 0);
    expect(b.nano / b.inputTokens).to.be.closeTo(2 * (a.nano / a.inputTokens), 1);
  });

  it("never reserves less than a call can cost when its usage stays within the request's bounds", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 2000 }),
        fc.integer({ min: 1, max: 64_000 }),
        fc.boolean(),
        fc.record({ read: fc.double({ min: 0, max: 1, noNaN: true }), write: fc.double({ min: 0, max: 1, noNaN: true }), out: fc.double({ min: 0, max: 1, noNaN: true }), hour: fc.boolean() }),
        (text, maxTokens, cache, split) => {
          const request = { system: cache ? [{ type: "text", text, cache_control: { type: "ephemeral", ...(split.hour ? { ttl: "1h" } : {}) } }] : text, messages: [{ role: "user", content: text }] };
          const model = { price: sonnet45, contextWindowTokens: 1_000_000 };
          const bound = costBound(request, model, maxTokens);
          // Any split of at most the bounded prompt into uncached, cache-read and cache-written tokens.
          const read = cache ? Math.floor(bound.inputTokens * split.read) : 0;
          const written = cache ? Math.floor((bound.inputTokens - read) * split.write) : 0;
          const usage = {
            inputTokens: bound.inputTokens - read - written,
            cacheReadInputTokens: read,
            cacheCreationInputTokens: written,
            cacheCreation1hInputTokens: split.hour ? written : 0,
            outputTokens: Math.floor(maxTokens * split.out),
          };
          return costOf(sonnet45, usage) <= bound.nano;
        },
      ),
      { numRuns: 300 },
    );
  });
});
