import { resolve } from "node:path";
import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";

export const cancelCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("cancel")
      .description("Cancel a running local execution started by `compute-node run` in another process: its processors' process groups are stopped, cleanup and finalize run, and the record ends CANCELED.")
      .argument("<execution-id>", "execution id printed by `run`")
      .option("--workdir <dir>", "workdir of the local run", ".compute-node")
      .option("--node <file>", "AWS: the node's stack outputs (not available in this build)")
      .option("--json", "the record as it was when the cancel was sent, on stdout")
      .action((executionId: string, opts: { workdir: string; node?: string; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const { UnavailableError } = await import("../../errors");
          if (opts.node !== undefined) throw new UnavailableError("cancel --node (an AWS execution) is not available in this build: stop it with `aws stepfunctions stop-execution`, or cancel a local run without --node");
          const { cancelLocalExecution } = await import("../../runtime/local");
          const record = await cancelLocalExecution(executionId, { workdir: resolve(ctx.io.cwd, opts.workdir) });
          if (opts.json) writeJson(ctx, record);
          else ctx.io.stdout(`cancel sent to execution ${executionId} (runner pid ${record.runner!.pid}); \`compute-node status ${executionId}\` shows it CANCELING, then CANCELED\n`);
          return EXIT.ok;
        }),
      );
  },
};
