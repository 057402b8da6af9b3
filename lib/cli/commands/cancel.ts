import { resolve } from "node:path";
import type { Command } from "commander";
import { CliCommand, EXIT, LOOKS_LIKE_EXECUTION_ARN } from "../io";
import { runAction, writeJson } from "../action";

export const cancelCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("cancel")
      .description("Cancel a running execution. Local (a `compute-node run` in another process): its processors' process groups are stopped, cleanup and finalize run, and the record ends CANCELED. AWS (--node, or an execution ARN): the record goes CANCELING and Step Functions stops the execution; the node's stop rule runs cleanup and finalize and the record ends CANCELED.")
      .argument("<execution-id>", "execution id printed by `run`")
      .option("--workdir <dir>", "workdir of the local run", ".compute-node")
      .option("--node <file>", "AWS: the node's stack outputs (region, record table)")
      .option("--json", "the record as it was when the cancel was sent, on stdout")
      .action((executionId: string, opts: { workdir: string; node?: string; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          if (opts.node !== undefined || LOOKS_LIKE_EXECUTION_ARN.test(executionId)) {
            const { cancelAwsExecution, readNodeFile } = await import("../../runtime/aws");
            const node = opts.node ? readNodeFile(opts.node, { cwd: ctx.io.cwd }) : undefined;
            const record = await cancelAwsExecution({ execution: executionId, node, workdir: resolve(ctx.io.cwd, opts.workdir), env: ctx.io.env });
            if (opts.json) writeJson(ctx, record);
            else ctx.io.stdout(`execution ${record.executionId} is ${record.status}; \`compute-node status ${executionId}${opts.node ? ` --node ${opts.node}` : ""}\` shows it CANCELED once Step Functions has stopped it\n`);
            return EXIT.ok;
          }
          const { cancelLocalExecution } = await import("../../runtime/local");
          const record = await cancelLocalExecution(executionId, { workdir: resolve(ctx.io.cwd, opts.workdir) });
          if (opts.json) writeJson(ctx, record);
          else ctx.io.stdout(`cancel sent to execution ${executionId} (runner pid ${record.runner!.pid}); \`compute-node status ${executionId}\` shows it CANCELING, then CANCELED\n`);
          return EXIT.ok;
        }),
      );
  },
};
