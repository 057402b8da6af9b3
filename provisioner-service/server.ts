import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { Server } from "node:http";
import { Duplex } from "node:stream";
import { ExecutionService } from "../lib/provision/execution-service";
import { FileProvisionStore } from "../lib/provision/file-store";
import { IdempotencyGuard } from "../lib/provision/idempotency";
import { NodeService } from "../lib/provision/node-service";
import { OperationManager } from "../lib/provision/operation-manager";
import { NodeSpec, StackEngine } from "../lib/provision/stack-engine";
import { ProvisionStore } from "../lib/provision/store";
import { WorkflowRuntime } from "../lib/provision/workflow-runtime";
import { AppDeps, createApp } from "./app";
import { AuthConfig } from "./auth";
import { errorFields, Logger } from "./logger";
import { clientErrorResponse } from "./http-errors";
import { systemClock } from "../lib/clock";

export interface ServiceOptions {
  dataDir: string;
  auth: AuthConfig;
  logger: Logger;
  engine: StackEngine;
  runtime: WorkflowRuntime;
  /** @default files under `dataDir` */
  store?: ProvisionStore;
  /** @default 4 */
  maxConcurrentOperations?: number;
  validateSpec?: (spec: NodeSpec) => void;
  retryAfterSeconds?: number;
  sseHeartbeatMs?: number;
  now?: () => Date;
  /** What `/readyz` says about the node engine, e.g. `{ nodeEngine: "local" }` or `{ nodeEngine: "pulumi", stateBackend: "file" }`. */
  engineInfo?: Record<string, string>;
  /** How often a watched execution's record is read for its event stream. @default 250 */
  executionPollMs?: number;
}

export interface Service {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  /** Marks what a previous process left unfinished and starts recover operations. */
  recover(): Promise<void>;
  /** Stops the executions this process runs (their records end ABORTED or CANCELED, never RUNNING). */
  shutdown(): Promise<void>;
}

/** Wires store, operation manager, node and execution services and the express app; listens nowhere. */
export function buildService(options: ServiceOptions): Service {
  const store = options.store ?? new FileProvisionStore(options.dataDir);
  const now = options.now ?? systemClock;
  const manager = new OperationManager({
    store,
    maxConcurrent: options.maxConcurrentOperations,
    now,
    onInternalError: (err, operationId) => options.logger.error("operation failed internally", { operationId, ...errorFields(err) }),
    onFinished: (op) =>
      (op.state === "succeeded" ? options.logger.info : options.logger.warn)("operation finished", {
        operationId: op.id,
        nodeId: op.nodeId,
        kind: op.kind,
        state: op.state,
        ...(op.error ? { errorCode: op.error.code } : {}),
        durationMs: op.startedAt && op.finishedAt ? Date.parse(op.finishedAt) - Date.parse(op.startedAt) : undefined,
      }),
  });
  const nodes = new NodeService({ store, manager, engine: options.engine, runtime: options.runtime, validateSpec: options.validateSpec, now });
  const executions = new ExecutionService({ store, nodes, runtime: options.runtime, now, eventPollMs: options.executionPollMs });
  let recovered = false;
  const deps: AppDeps = {
    nodes,
    executions,
    manager,
    idempotency: new IdempotencyGuard(store, (id) => manager.get(id), now),
    auth: options.auth,
    logger: options.logger,
    retryAfterSeconds: options.retryAfterSeconds,
    sseHeartbeatMs: options.sseHeartbeatMs,
    readiness: async () => {
      const checks: Record<string, string> = { recovery: recovered ? "ok" : "restart recovery has not finished" };
      try {
        await store.listUnfinishedOperations();
        checks.store = "ok";
      } catch (err) {
        checks.store = `failing: ${err instanceof Error ? err.name : "error"}`;
      }
      try {
        await options.engine.ensureAvailable();
        checks.engine = "ok";
      } catch (err) {
        checks.engine = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
      checks.runtime = options.runtime.backend;
      Object.assign(checks, options.engineInfo ?? {});
      return { ready: recovered && checks.store === "ok", checks };
    },
  };
  return {
    app: createApp(deps),
    deps,
    recover: async () => {
      const started = await nodes.recover();
      for (const op of started) options.logger.warn("recovering an interrupted operation", { operationId: op.id, nodeId: op.nodeId, interruptedOperationId: op.recoversOperationId });
      for (const executionId of await executions.recover()) options.logger.warn("marked an interrupted execution FAILED", { executionId });
      recovered = true;
    },
    shutdown: () => executions.shutdown(),
  };
}

export interface RunningServer {
  url: string;
  service: Service;
  httpServer: Server;
  /** Stops accepting requests, cancels running operations and waits for them. */
  close(): Promise<void>;
}

/** Recovers, then listens. The only place the service listens. */
export async function startServer(service: Service, listen: { port: number; host: string }, logger: Logger): Promise<RunningServer> {
  await service.recover();
  const server: Server = await new Promise((resolveServer, reject) => {
    const s = service.app.listen(listen.port, listen.host, (err?: Error) => (err ? reject(err) : resolveServer(s)));
    s.once("error", reject);
    // Node answers a request its parser refuses (headers past maxHeaderSize: 431) with a bare status
    // line; callers get the API's JSON error envelope instead.
    s.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === "ECONNRESET" || !socket.writable) return socket.destroy();
      socket.end(clientErrorResponse(err, randomUUID()));
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info("listening", { url });
  return {
    url,
    service,
    httpServer: server,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.all([service.deps.manager.shutdown(), service.shutdown()]);
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The local backend's passphrase: from the environment, else generated once into the data dir (mode 0600). */
export async function localPassphrase(dataDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  const file = join(resolve(dataDir), "secrets", "pulumi-passphrase");
  const existing = await readFile(file, "utf8").catch(() => undefined);
  if (existing) return existing.trim();
  await mkdir(join(resolve(dataDir), "secrets"), { recursive: true, mode: 0o700 });
  const passphrase = randomBytes(24).toString("base64url");
  await writeFile(file, passphrase + "\n", { mode: 0o600, flag: "wx" }).catch(async (err) => {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  });
  return (await readFile(file, "utf8")).trim();
}

