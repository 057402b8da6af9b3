import { resolve } from "node:path";
import { createDefaultService, resolveAuth, ServeOptions, stateTableClient } from "./config";
import { jsonLogger, Logger } from "./logger";
import { RunningServer, startServer } from "./server";
import { acquireDataDirLock } from "../lib/provision/data-dir-lock";
import type { StateTableLease } from "../lib/provision/state-table-lease";

export interface ServiceIo {
  /** Where the JSON log lines go. */
  stdout: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface ServeHooks {
  logger?: Logger;
  /** Called once listening; tests use it to get the URL and stop the server. */
  onListening?: (server: RunningServer) => void;
  /** Resolves when the server should stop. @default SIGINT or SIGTERM */
  stopped?: Promise<void>;
}

/** Why the service stopped: it was asked to, or it lost its exclusive hold on its state and must not go on. */
export type ServeOutcome = "stopped" | "lost-lock";

/**
 * The provisioning service's whole life: resolve auth (fail closed), take the data directory's lock
 * and, with a state table, its lease (before anything reads them: restart recovery must not run
 * beside a live process), build the service, recover, listen, and on a stop request or a lost lock
 * close and release both. `compute-node serve` is a thin wrapper around this.
 */
export async function serveUntilStopped(options: ServeOptions, io: ServiceIo, hooks: ServeHooks = {}): Promise<ServeOutcome> {
  const logger = hooks.logger ?? jsonLogger((line) => io.stdout(line));
  const auth = await resolveAuth(options, io.env);
  if ("disabled" in auth) logger.warn("bearer-token auth is OFF (--insecure-no-auth): anyone who reaches this port can provision and destroy compute nodes");
  let compromised: (lost: { message: string; err: Error }) => void = () => undefined;
  const lostLock = new Promise<{ message: string; err: Error }>((resolveLost) => (compromised = resolveLost));
  const waitMs = (options.lockWaitSeconds ?? 35) * 1000;
  const lock = await acquireDataDirLock(resolve(options.dataDir), { onCompromised: (err) => compromised({ message: "another process took over the data directory's lock", err }), waitMs });
  let lease: StateTableLease | undefined;
  try {
    if (options.stateTable) {
      // Loaded only with --state-table: the DynamoDB client is not needed otherwise.
      const { acquireStateTableLease } = await import("../lib/provision/state-table-lease");
      const stateTable = options.stateTable;
      lease = await acquireStateTableLease({
        client: stateTableClient(io.env),
        tableName: stateTable,
        waitMs,
        onCompromised: (err) => compromised({ message: `lost the state table's lease (${stateTable})`, err }),
      });
    }
    const service = await createDefaultService(options, { env: io.env, logger, auth });
    const server = await startServer(service, { port: options.port, host: options.host }, logger);
    logger.info("provisioner service started", { mode: options.local ? "local" : "aws", dataDir: options.dataDir, ...(options.stateTable ? { stateTable: options.stateTable } : {}), auth: "disabled" in auth ? "off" : "bearer" });
    hooks.onListening?.(server);
    const stop = await Promise.race([(hooks.stopped ?? untilSignal()).then(() => undefined), lostLock]);
    if (stop) logger.error(`stopping: ${stop.message}`, { dataDir: options.dataDir, ...(options.stateTable ? { stateTable: options.stateTable } : {}), error: stop.err.message });
    else logger.info("stopping: cancelling running operations");
    await server.close();
    return stop ? "lost-lock" : "stopped";
  } finally {
    // A lease left behind only delays the next process until it expires.
    await lease?.release().catch((err: Error) => logger.warn("could not release the state table's lease; it expires on its own", { stateTable: options.stateTable, error: err.message }));
    await lock.release();
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolveStop) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolveStop();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
