import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { expect } from "chai";
import { LocalWorkflowRuntime } from "../../lib/provision/local-runtime";
import { ProvisionStore } from "../../lib/provision/store";
import { WorkflowRuntime } from "../../lib/provision/workflow-runtime";
import { jsonLogger } from "../../provisioner-service/logger";
import { buildService, RunningServer, startServer } from "../../provisioner-service/server";
import { MemoryBackend, MemoryStackEngine } from "../provision/memory-engine";

export const TOKEN = "test-token-0123456789abcdef";

export interface TestService {
  url: string;
  engine: MemoryStackEngine;
  server: RunningServer;
  logs: string[];
  dataDir: string;
  /** supertest against the listening server, with the bearer token. */
  get(path: string): request.Test;
  post(path: string, body?: unknown): request.Test;
  patch(path: string, body?: unknown): request.Test;
  put(path: string, body?: unknown): request.Test;
  del(path: string): request.Test;
  close(): Promise<void>;
  /** Stops answering without finishing or cancelling anything, as a killed process would. */
  crash(): Promise<void>;
}

export interface TestServiceOptions {
  dataDir?: string;
  backend?: MemoryBackend;
  maxConcurrentOperations?: number;
  engineAvailable?: boolean;
  stepMs?: number;
  runtime?: WorkflowRuntime;
  store?: (dataDir: string) => ProvisionStore;
  /** Runs before the service starts (and recovers): arm failures or holds for recovery. */
  prepareEngine?: (engine: MemoryStackEngine) => void;
}

/** A real listening service on a random port, with the in-memory engine and a temp data dir. */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "cn-provisioner-")));
  const engine = new MemoryStackEngine({ backend: options.backend, stepMs: options.stepMs ?? 3, available: options.engineAvailable });
  options.prepareEngine?.(engine);
  const logs: string[] = [];
  const logger = jsonLogger((line) => logs.push(line));
  const service = buildService({
    dataDir,
    auth: { token: TOKEN },
    logger,
    engine,
    runtime: options.runtime ?? new LocalWorkflowRuntime({ root: join(dataDir, "runtime"), runnerOptions: { dockerReachable: async () => false } }),
    store: options.store?.(dataDir),
    maxConcurrentOperations: options.maxConcurrentOperations,
    retryAfterSeconds: 1,
    sseHeartbeatMs: 50,
  });
  const server = await startServer(service, { port: 0, host: "127.0.0.1" }, logger);
  const auth = (t: request.Test) => t.set("Authorization", `Bearer ${TOKEN}`);
  return {
    url: server.url,
    engine,
    server,
    logs,
    dataDir,
    get: (path) => auth(request(server.url).get(path)),
    post: (path, body) => auth(request(server.url).post(path)).send(body as object),
    patch: (path, body) => auth(request(server.url).patch(path)).send(body as object),
    put: (path, body) => auth(request(server.url).put(path)).send(body as object),
    del: (path) => auth(request(server.url).delete(path)),
    close: () => server.close(),
    crash: async () => {
      server.httpServer.closeAllConnections();
      await new Promise<void>((r) => server.httpServer.close(() => r()));
    },
  };
}

export async function removeDir(dir: string) {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Polls an operation until it is finished and returns it. No deadline of its own unless given: the
 * test's timeout bounds it, so a loaded machine is slower, not failing.
 */
export async function waitForOperation(svc: TestService, operationId: string, timeoutMs?: number): Promise<Record<string, any>> {
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const res = await svc.get(`/v1/operations/${operationId}`).expect(200);
    if (!["queued", "running"].includes(res.body.state)) return res.body;
    if (Date.now() > deadline) throw new Error(`operation ${operationId} still ${res.body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function createReadyNode(svc: TestService, id: string, extra: Record<string, unknown> = {}) {
  const res = await svc.post("/v1/nodes", { id, region: "us-east-1", ...extra }).expect(202);
  const op = await waitForOperation(svc, res.body.operation.id);
  expect(op.state).to.equal("succeeded");
  return res.body.operation.id as string;
}

export interface SseMessage {
  id?: string;
  event?: string;
  data: any;
}

/** Reads a whole SSE response (until the server ends it) and parses its messages. */
export async function readSse(url: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | null; messages: SseMessage[] }> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}`, ...headers } });
  const text = await res.text();
  const messages: SseMessage[] = [];
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n").filter((l) => l && !l.startsWith(":"));
    const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
    const data = field("data");
    if (data !== undefined) messages.push({ id: field("id"), event: field("event"), data: JSON.parse(data) });
  }
  return { status: res.status, contentType: res.headers.get("content-type"), messages };
}
