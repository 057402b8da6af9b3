import { resolve } from "node:path";
import type { Command } from "commander";
import { CliCommand, EXIT, LOOKS_LIKE_EXECUTION_ARN } from "../io";
import { runAction, writeJson } from "../action";
import { formatRecord } from "../format-record";


/** How often --watch rereads the record: a terminal's pace. */
const WATCH_INTERVAL_MS = 500;

export const statusCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("status")
      .description("Show an execution record with per-processor status, exit codes, times and log files. Exit 1 when the execution failed.")
      .argument("<execution-id>", "execution id printed by `run` (the workflow instance id)")
      .option("--workdir <dir>", "workdir of the local run", ".compute-node")
      .option("--json", "the full execution record on stdout")
      .option("--watch", "local runs: keep showing the record until the execution ends (redrawn on a terminal, one summary per change otherwise)")
      .option("--node <file>", "AWS: the node's stack outputs (region, record table); needed for an execution id, optional for an execution ARN")
      .action((executionId: string, opts: { workdir: string; json?: boolean; node?: string; watch?: boolean }) =>
        runAction(ctx, opts, async () => {
          if (opts.watch) return watchLocal(executionId, opts);
          // AWS branch: an execution ARN, or any id with --node, is read from the node and refreshed from Step Functions.
          const record =
            LOOKS_LIKE_EXECUTION_ARN.test(executionId) || opts.node !== undefined ? await awsRecord(executionId, opts) : await localRecord(executionId, opts);
          if (opts.json) writeJson(ctx, record);
          else ctx.io.stdout(formatRecord(record));
          const { isTerminalExecutionStatus } = await import("../../model/execution-record");
          return isTerminalExecutionStatus(record.status) && record.status !== "SUCCEEDED" ? EXIT.failed : EXIT.ok;
        }),
      );

    async function awsRecord(executionId: string, opts: { workdir: string; node?: string }) {
      const { isExecutionArn, loadAwsExecutionRecord, readNodeFile } = await import("../../runtime/aws");
      const node = opts.node ? readNodeFile(opts.node, { cwd: ctx.io.cwd }) : undefined;
      if (!node && !isExecutionArn(executionId)) return localRecord(executionId, opts);
      return loadAwsExecutionRecord({ execution: executionId, node, workdir: resolve(ctx.io.cwd, opts.workdir), env: ctx.io.env });
    }

    /** Polls the record (the runner rewrites it as it goes) and shows each change until a terminal status. */
    async function watchLocal(executionId: string, opts: { workdir: string; json?: boolean; node?: string }) {
      const { isTerminalExecutionStatus } = await import("../../model/execution-record");
      if (opts.node !== undefined || LOOKS_LIKE_EXECUTION_ARN.test(executionId)) {
        const { UnavailableError } = await import("../../errors");
        throw new UnavailableError("status --watch of an AWS execution is not available in this build: run `status` again, or watch a local run");
      }
      const tty = !opts.json && !!(process.stdout as { isTTY?: boolean }).isTTY;
      let last = "";
      for (;;) {
        const record = await localRecord(executionId, opts);
        const shown = opts.json ? JSON.stringify(record) + "\n" : formatRecord(record);
        if (shown !== last) ctx.io.stdout(tty ? `\x1b[H\x1b[2J${shown}` : shown);
        last = shown;
        if (isTerminalExecutionStatus(record.status)) return record.status === "SUCCEEDED" ? EXIT.ok : EXIT.failed;
        await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
      }
    }

    async function localRecord(executionId: string, opts: { workdir: string }) {
      const { loadExecutionRecord } = await import("../../runtime/local");
      return loadExecutionRecord(executionId, { workdir: resolve(ctx.io.cwd, opts.workdir) });
    }
  },
};
