import { IncomingMessage, Server, ServerResponse, createServer } from "node:http";
import { Governor, GovernorResponse } from "./governor";

export interface GovernorServerOptions {
  /** Largest body read, in bytes (larger requests are cut off with 413). @default 32 MiB */
  maxBodyBytes?: number;
  /** Failures of the server itself (never a request's content). */
  onError?: (message: string) => void;
}

/** The governor over node:http: the Messages API on `/v1/…`, streaming answers written as they arrive. */
export function createGovernorServer(governor: Governor, options: GovernorServerOptions = {}): Server {
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const onError = options.onError ?? (() => undefined);
  return createServer((req, res) => {
    void serve(governor, req, res, maxBody).catch((err: Error) => {
      onError(`llm governor: ${err.name}: request ${req.method} ${req.url?.split("?")[0]} failed`);
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "api_error", code: "bedrock_error", details: { error_code: "bedrock_error" }, message: "bedrock_error: the governor failed" } }));
      } else res.destroy();
    });
  });
}

async function serve(governor: Governor, req: IncomingMessage, res: ServerResponse, maxBody: number): Promise<void> {
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort(new Error("client disconnected"));
  });
  const body = await readBody(req, maxBody);
  if (body === undefined) {
    res.writeHead(413, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ type: "error", error: { type: "request_too_large", code: "invalid_request", details: { error_code: "invalid_request" }, message: `invalid_request: the request is larger than ${maxBody} bytes` } }));
    return;
  }
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v]));
  const response = await governor.handle({ method: req.method ?? "GET", path: (req.url ?? "/").split("?")[0], headers, body: body.length ? body : undefined, signal: gone.signal });
  await write(response, res);
}

async function write(response: GovernorResponse, res: ServerResponse): Promise<void> {
  if (response.kind === "json") {
    res.writeHead(response.status, response.headers);
    res.end(JSON.stringify(response.body));
    return;
  }
  res.writeHead(response.status, response.headers);
  res.flushHeaders();
  // Always iterated to its end or stopped by `break`: either way the call settles.
  for await (const chunk of response.events) {
    if (res.destroyed) break;
    if (!res.write(chunk)) await new Promise<void>((resolve) => { res.once("drain", resolve); res.once("close", resolve); });
  }
  res.end();
}

function readBody(req: IncomingMessage, maxBody: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) tooBig = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
