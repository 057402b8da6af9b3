import { Http2Server, Http2ServerRequest, Http2ServerResponse, createServer } from "node:http2";
import { AddressInfo } from "node:net";
import { EventStreamCodec } from "@smithy/eventstream-codec";

/** What the stand-in answers for one model. */
export interface ModelBehaviour {
  /** The reply text (split into a few deltas when streamed). @default "hello from the stand-in" */
  text?: string;
  /** Usage the answer reports. @default input 100, output 20 */
  usage?: { input_tokens: number; output_tokens: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
  /** Answer with a Bedrock error instead (HTTP status and exception name). */
  error?: { status: number; exception: string; message: string };
  /** Streams only: fail after this many events with a stream exception event. */
  streamErrorAfter?: { events: number; exception: string };
  /** Streams only: wait for this before sending the events after the first `pauseAfter`. */
  pause?: { after: number; until: Promise<void> };
  /** Streams only: leave out message_delta's usage (a stream that never reports its output). */
  omitFinalUsage?: boolean;
  /** What CountTokens answers. @default a quarter of the body's bytes */
  countTokens?: number;
}

export interface StandInCall {
  operation: "invoke" | "invoke-with-response-stream" | "count-tokens";
  modelId: string;
  body: Record<string, unknown>;
}

export interface BedrockStandIn {
  url: string;
  calls: StandInCall[];
  /** Behaviour per Bedrock model id; `*` for every other model. */
  behaviours: Map<string, ModelBehaviour>;
  /** Streams whose connection the caller closed before their last event was written. */
  streamsCutOff: number;
  /** Resolves when the caller closes a stream before its end (the governor stopped reading Bedrock). */
  firstCutOff: Promise<void>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const codec = new EventStreamCodec((bytes) => decoder.decode(bytes), (text) => encoder.encode(text));

/**
 * A stand-in for Bedrock's runtime API at the network boundary (HTTP/2): `POST /model/{id}/invoke` answers
 * the Anthropic-on-Bedrock JSON, `POST /model/{id}/invoke-with-response-stream` the same answer as
 * Messages API events inside AWS event-stream frames (`chunk` events whose payload is
 * `{"bytes": base64}`), as the SDK's `InvokeModelWithResponseStream` reads them.
 */
export async function startBedrockStandIn(): Promise<BedrockStandIn> {
  const calls: StandInCall[] = [];
  const behaviours = new Map<string, ModelBehaviour>();
  const state = { streamsCutOff: 0 };
  let cutOff!: () => void;
  const firstCutOff = new Promise<void>((resolve) => (cutOff = resolve));
  // HTTP/2 in clear text: the Bedrock runtime client speaks HTTP/2 (its default handler), as to the real endpoint.
  const server: Http2Server = createServer((req, res) => void handle(req, res));
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  async function handle(req: Http2ServerRequest, res: Http2ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const match = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|count-tokens)$/.exec(req.url ?? "");
    if (!match || req.method !== "POST") {
      res.writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "UnknownOperationException" });
      res.end(JSON.stringify({ message: `no route ${req.method} ${req.url}` }));
      return;
    }
    const modelId = decodeURIComponent(match[1]);
    const operation = match[2] as StandInCall["operation"];
    let body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    // CountTokens wraps the InvokeModel body: {"input": {"invokeModel": {"body": base64}}}.
    const wrapped = operation === "count-tokens" ? Buffer.from(((body.input as { invokeModel: { body: string } }).invokeModel.body), "base64") : undefined;
    if (wrapped) body = JSON.parse(wrapped.toString("utf8")) as Record<string, unknown>;
    calls.push({ operation, modelId, body });
    const b: ModelBehaviour = behaviours.get(modelId) ?? behaviours.get("*") ?? {};
    if (wrapped && !b.error) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ inputTokens: b.countTokens ?? Math.ceil(wrapped.length / 4) }));
      return;
    }
    if (b.error) {
      res.writeHead(b.error.status, { "content-type": "application/json", "x-amzn-errortype": `${b.error.exception}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
      res.end(JSON.stringify({ message: b.error.message }));
      return;
    }
    const text = b.text ?? "hello from the stand-in";
    const usage = b.usage ?? { input_tokens: 100, output_tokens: 20 };
    const message = { id: `msg_bdrk_${calls.length}`, type: "message", role: "assistant", model: modelId.replace(/^(\w+\.)?anthropic\./, "").replace(/-v\d+(:\d+)?$/, "") };
    if (operation === "invoke") {
      res.writeHead(200, { "content-type": "application/json", "x-amzn-bedrock-input-token-count": String(usage.input_tokens), "x-amzn-bedrock-output-token-count": String(usage.output_tokens) });
      res.end(JSON.stringify({ ...message, content: [{ type: "text", text }], stop_reason: "end_turn", stop_sequence: null, usage }));
      return;
    }
    const words = text.split(/(?<= )/);
    const events: Record<string, unknown>[] = [
      { type: "message_start", message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0, cache_read_input_tokens: usage.cache_read_input_tokens ?? 0, output_tokens: 1 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      ...words.map((w) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: w } })),
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, ...(b.omitFinalUsage ? {} : { usage: { output_tokens: usage.output_tokens } }) },
      {
        type: "message_stop",
        ...(b.omitFinalUsage ? {} : { "amazon-bedrock-invocationMetrics": { inputTokenCount: usage.input_tokens, outputTokenCount: usage.output_tokens, invocationLatency: 42, firstByteLatency: 7 } }),
      },
    ];
    res.writeHead(200, { "content-type": "application/vnd.amazon.eventstream", "x-amzn-bedrock-content-type": "application/json" });
    let closed = false;
    res.on("close", () => {
      if (!res.writableEnded) {
        closed = true;
        state.streamsCutOff++;
        cutOff();
      }
    });
    for (let i = 0; i < events.length && !closed; i++) {
      if (b.streamErrorAfter && i === b.streamErrorAfter.events) {
        res.write(
          codec.encode({
            headers: { ":message-type": { type: "string", value: "exception" }, ":exception-type": { type: "string", value: b.streamErrorAfter.exception }, ":content-type": { type: "string", value: "application/json" } },
            body: encoder.encode(JSON.stringify({ message: "stand-in stream failure" })),
          }),
        );
        res.end();
        return;
      }
      if (b.pause && i === b.pause.after) await b.pause.until;
      if (closed) break;
      res.write(
        codec.encode({
          headers: { ":message-type": { type: "string", value: "event" }, ":event-type": { type: "string", value: "chunk" }, ":content-type": { type: "string", value: "application/json" } },
          body: encoder.encode(JSON.stringify({ bytes: Buffer.from(JSON.stringify(events[i])).toString("base64") })),
        }),
      );
    }
    res.end();
  }

  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    behaviours,
    firstCutOff,
    get streamsCutOff() {
      return state.streamsCutOff;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        for (const session of sessions) session.destroy();
      }),
  };
}
