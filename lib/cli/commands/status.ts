import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { CliCommand, EXIT, LOOKS_LIKE_EXECUTION_ARN } from "../io";
import { runAction, writeJson } from "../action";
import { formatRecord } from "../format-record";
import type { ExecutionRecord } from "../../model/execution-record";


/** How often --watch rereads a local record (a file the runner rewrites): a terminal's pace. */
const LOCAL_WATCH_INTERVAL_S = 0.5;
/** How often --watch refreshes an AWS execution: each read is a DescribeExecution and a history read, under Step Functions' API budgets. */
const AWS_WATCH_INTERVAL_S = 5;

const seconds = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.05 || n > 3600) throw new InvalidArgumentError("must be a number of seconds between 0.05 and 3600");
  return n;
};

export const statusCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("status")
      .description("Show an execution record with per-processor status, exit codes, times and log files. Exit 1 when the execution failed.")
      .argument("<execution-id>", "execution id printed by `run` (the workflow instance id)")
      .option("--workdir <dir>", "workdir of the local run", ".compute-node")
      .option("--json", "the full execution record on stdout")
      .option("--watch", "keep showing the record until the execution ends (redrawn on a terminal, one summary per change otherwise; with --json, one record per line per change)")
      .option("--interval <seconds>", `how often --watch reads the record again (default ${LOCAL_WATCH_INTERVAL_S} s for a local run, ${AWS_WATCH_INTERVAL_S} s on AWS)`, seconds)
      .option("--node <file>", "AWS: the node's stack outputs (region, record table); needed for an execution id, optional for an execution ARN")
      .action((executionId: string, opts: { workdir: string; json?: boolean; node?: string; watch?: boolean; interval?: number }) =>
        runAction(ctx, opts, async () => {
          // AWS branch: an execution ARN, or any id with --node, is read from the node and refreshed from Step Functions.
          const onAws = LOOKS_LIKE_EXECUTION_ARN.test(executionId) || opts.node !== undefined;
          const read = () => (onAws ? awsRecord(executionId, opts) : localRecord(executionId, opts));
          if (opts.watch) return watch(read, opts.interval ?? (onAws ? AWS_WATCH_INTERVAL_S : LOCAL_WATCH_INTERVAL_S), opts);
          const record = await read();
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

    /** Reads the record again every `intervalS` seconds and shows each change, until a terminal status. */
    async function watch(read: () => Promise<ExecutionRecord>, intervalS: number, opts: { json?: boolean }) {
      const { isTerminalExecutionStatus } = await import("../../model/execution-record");
      const tty = !opts.json && !!(process.stdout as { isTTY?: boolean }).isTTY;
      let last = "";
      for (;;) {
        const record = await read();
        const shown = opts.json ? JSON.stringify(record) + "\n" : formatRecord(record);
        if (shown !== last) ctx.io.stdout(tty ? `\x1b[H\x1b[2J${shown}` : shown);
        last = shown;
        if (isTerminalExecutionStatus(record.status)) return record.status === "SUCCEEDED" ? EXIT.ok : EXIT.failed;
        await new Promise((r) => setTimeout(r, intervalS * 1000));
      }
    }

    async function localRecord(executionId: string, opts: { workdir: string }) {
      const { loadExecutionRecord } = await import("../../runtime/local");
      return loadExecutionRecord(executionId, { workdir: resolve(ctx.io.cwd, opts.workdir) });
    }
  },
};
