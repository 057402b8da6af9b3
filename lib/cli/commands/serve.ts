import { Command, InvalidArgumentError, Option } from "commander";
import type { ServeOptions } from "../../../provisioner-service/config";
import type { ServeHooks } from "../../../provisioner-service/serve";
import { CliCommand, CliIo, EXIT } from "../io";
import { runAction } from "../action";

export type RunServeHooks = ServeHooks;

/** Starts the provisioner service and resolves with the exit code once it has stopped: 0 when asked to stop, 1 when it lost its lock. */
export async function runServe(options: ServeOptions, io: CliIo, hooks: RunServeHooks = {}): Promise<number> {
  // Loaded here, not at CLI start: express and the service are only needed by this command.
  const { serveUntilStopped } = await import("../../../provisioner-service/serve");
  const outcome = await serveUntilStopped(options, { stdout: io.stdout, env: io.env }, hooks);
  return outcome === "stopped" ? EXIT.ok : EXIT.failed;
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
          "--local runs executions with the local runner, and nodes with the local node engine when no Pulumi CLI is found (else a local file backend for stack state).",
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
      .addOption(
        new Option("--node-engine <engine>", "what provisions nodes: pulumi, local (a node is a directory under the data dir; needs --local), or auto (local under --local when no Pulumi CLI is found)")
          .choices(["auto", "local", "pulumi"])
          .default("auto"),
      )
      .option("--executions-table <name>", "AWS mode: DynamoDB table of execution records (default: COMPUTE_NODE_EXECUTIONS_TABLE, else the node's executionTableName output)")
      .action((opts: { port: number; host: string; local?: boolean; dataDir: string; tokenFile?: string; insecureNoAuth?: boolean; maxOperations: number; pulumiRoot?: string; stateTable?: string; executionsTable?: string; lockWait: number; nodeEngine: "auto" | "local" | "pulumi" }) =>
        runAction(ctx, { json: false }, () =>
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
              nodeEngine: opts.nodeEngine,
            },
            ctx.io,
          ),
        ),
      );
  },
};
