import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import type { ServeOptions } from "../../../provisioner-service/config";
import type { Logger } from "../../../provisioner-service/logger";
import type { RunningServer } from "../../../provisioner-service/server";
import { CliCommand, CliIo, EXIT } from "../io";
import { runAction } from "../action";

export interface RunServeHooks {
  logger?: Logger;
  /** Called once listening; tests use it to get the URL and stop the server. */
  onListening?: (server: RunningServer) => void;
  /** Resolves when the server should stop. @default SIGINT or SIGTERM */
  stopped?: Promise<void>;
}

/** Starts the provisioner service and resolves when it has stopped. */
export async function runServe(options: ServeOptions, io: CliIo, hooks: RunServeHooks = {}): Promise<number> {
  // Loaded here, not at CLI start: express and the service are only needed by this command.
  const { createDefaultService, resolveAuth, stateTableClient } = await import("../../../provisioner-service/config");
  const { jsonLogger } = await import("../../../provisioner-service/logger");
  const { startServer } = await import("../../../provisioner-service/server");
  const { acquireDataDirLock } = await import("../../provision/data-dir-lock");
  const logger = hooks.logger ?? jsonLogger((line) => io.stdout(line));
  const auth = await resolveAuth(options, io.env);
  if ("disabled" in auth) logger.warn("bearer-token auth is OFF (--insecure-no-auth): anyone who reaches this port can provision and destroy compute nodes");
  // Before anything reads the data dir or the state table: restart recovery must not run beside a live process.
  let compromised: (lost: { message: string; err: Error }) => void = () => undefined;
  const lostLock = new Promise<{ message: string; err: Error }>((resolve) => (compromised = resolve));
  const waitMs = (options.lockWaitSeconds ?? 35) * 1000;
  const lock = await acquireDataDirLock(resolve(options.dataDir), { onCompromised: (err) => compromised({ message: "another process took over the data directory's lock", err }), waitMs });
  let lease: import("../../provision/state-table-lease").StateTableLease | undefined;
  try {
    if (options.stateTable) {
      const { acquireStateTableLease } = await import("../../provision/state-table-lease");
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
    return stop ? EXIT.failed : EXIT.ok;
  } finally {
    // A lease left behind only delays the next process until it expires.
    await lease?.release().catch((err: Error) => logger.warn("could not release the state table's lease; it expires on its own", { stateTable: options.stateTable, error: err.message }));
    await lock.release();
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be an integer between 0 and 65535`);
  return n;
};

export const serveCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("serve")
      .description(
        "Run the provisioner HTTP service (API under /v1, OpenAPI at /openapi.json). Needs a bearer token in COMPUTE_NODE_API_TOKEN or --token-file. " +
          "--local keeps stack state in a local file backend and runs executions with the local runner.",
      )
      .option("--port <n>", "port to listen on", positiveInt("--port"), 8080)
      .option("--host <address>", "address to listen on", "127.0.0.1")
      .option("--local", "laptop mode: file backend for stack state under the data dir, local runner for executions")
      .option("--data-dir <dir>", "where operations, node records, stack settings and local state live", ".compute-node/provisioner")
      .option("--token-file <file>", "file whose first line is the API bearer token (instead of COMPUTE_NODE_API_TOKEN)")
      .option("--insecure-no-auth", "run without authentication (never on a shared network)")
      .option("--max-operations <n>", "stack operations running at once across nodes", positiveInt("--max-operations"), 4)
      .option("--pulumi-root <dir>", "directory containing bin/pulumi (default: PULUMI_CLI_ROOT, else PATH)")
      .option("--state-table <name>", "keep operations, nodes and idempotency keys in this DynamoDB table instead of the data dir")
      .option("--lock-wait <seconds>", "how long to wait for another process's lock on the data dir (and lease on the --state-table) to be released or go stale", positiveInt("--lock-wait"), 35)
      .option("--executions-table <name>", "AWS mode: DynamoDB table of execution records (default: COMPUTE_NODE_EXECUTIONS_TABLE, else the node's executionTableName output)")
      .action((opts: { port: number; host: string; local?: boolean; dataDir: string; tokenFile?: string; insecureNoAuth?: boolean; maxOperations: number; pulumiRoot?: string; stateTable?: string; executionsTable?: string; lockWait: number }) =>
        runAction(ctx, false, () =>
          runServe(
            {
              port: opts.port,
              host: opts.host,
              local: !!opts.local,
              dataDir: opts.dataDir,
              tokenFile: opts.tokenFile,
              insecureNoAuth: !!opts.insecureNoAuth,
              maxConcurrentOperations: Math.max(1, opts.maxOperations),
              pulumiRoot: opts.pulumiRoot,
              stateTable: opts.stateTable,
              executionsTable: opts.executionsTable,
              lockWaitSeconds: opts.lockWait,
            },
            ctx.io,
          ),
        ),
      );
  },
};
