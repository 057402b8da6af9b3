import { Command } from "commander";
import { resolve } from "node:path";
import { NotFoundError } from "../../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../../model/execution-record";
import { localRecordStore } from "../../runtime/local/runner";
import { assertSafeExecutionId } from "../../runtime/file-record-store";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";
import { formatRecord } from "../format-record";
import { readJsonFile } from "../load-inputs";
import { isExecutionArn, loadAwsExecutionRecord } from "../../runtime/aws/status";
import { parseNodeOutputs } from "../../runtime/aws/node";

export interface LoadRecordOptions {
  /** Local workdir holding `executions/<id>/record.json`. @default ".compute-node" under the current directory */
  workdir: string;
}

/**
 * Loads an execution record by id. Local records only for now; the AWS runtime adds a branch for
 * execution ARNs here, so every caller (status, the service) gets both.
 */
export async function loadExecutionRecord(executionId: string, options: LoadRecordOptions): Promise<ExecutionRecord> {
  assertSafeExecutionId(executionId);
  const record = await localRecordStore(options.workdir).get(executionId);
  if (!record) throw new NotFoundError(`no local execution "${executionId}" under ${resolve(options.workdir, "executions")}`);
  return record;
}

export const statusCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("status")
      .description("Show an execution record with per-processor status, exit codes, times and log files. Exit 1 when the execution failed.")
      .argument("<execution-id>", "execution id printed by `run` (the workflow instance id)")
      .option("--workdir <dir>", "workdir of the local run", ".compute-node")
      .option("--json", "the full execution record on stdout")
      .option("--node <file>", "AWS: the node's stack outputs (region, record table); needed for an execution id, optional for an execution ARN")
      .action((executionId: string, opts: { workdir: string; json?: boolean; node?: string }) =>
        runAction(ctx, !!opts.json, async () => {
          // AWS branch: an execution ARN, or any id with --node, is read from the node and refreshed from Step Functions.
          const aws = isExecutionArn(executionId) || opts.node !== undefined;
          const node = opts.node ? parseNodeOutputs(readJsonFile(opts.node, "--node", ctx.io.cwd)) : undefined;
          const record = aws
            ? await loadAwsExecutionRecord({ execution: executionId, node, workdir: resolve(ctx.io.cwd, opts.workdir), env: ctx.io.env })
            : await loadExecutionRecord(executionId, { workdir: resolve(ctx.io.cwd, opts.workdir) });
          if (opts.json) writeJson(ctx, record);
          else ctx.io.stdout(formatRecord(record));
          return isTerminalExecutionStatus(record.status) && record.status !== "SUCCEEDED" ? EXIT.failed : EXIT.ok;
        }),
      );
  },
};
