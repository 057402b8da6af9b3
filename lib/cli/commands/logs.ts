import { resolve } from "node:path";
import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction } from "../action";

/** How often `--follow` looks for new output: a terminal's pace, not a test's. */
const FOLLOW_INTERVAL_MS = 500;

export const logsCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("logs")
      .description("Print an execution's processor logs: one processor's with --processor, otherwise every processor's, each line prefixed with its id. AWS executions (--node): from CloudWatch Logs while live, from the node's log archive after finalize.")
      .argument("<execution-id>", "execution id printed by `run`")
      .option("--processor <id>", "only this processor's log")
      .option("--follow", "keep printing new output until the processors shown have ended (AWS: with --processor)")
      .option("--workdir <dir>", "workdir of the local run", ".compute-node")
      .option("--node <file>", "AWS: the node's stack outputs (region, record table, log group, archive)")
      .action((executionId: string, opts: { processor?: string; follow?: boolean; workdir: string; node?: string }) =>
        runAction(ctx, {}, async () => {
          if (opts.node !== undefined) return awsLogs(executionId, { ...opts, node: opts.node });
          const [{ loadExecutionRecord }, { NotFoundError }, { readFile }] = await Promise.all([import("../../runtime/local"), import("../../errors"), import("node:fs/promises")]);
          const workdir = resolve(ctx.io.cwd, opts.workdir);
          let record = await loadExecutionRecord(executionId, { workdir });
          const ids = record.snapshot.resolved.map((p) => p.id);
          if (opts.processor !== undefined && !ids.includes(opts.processor)) throw new NotFoundError(`execution "${executionId}" has no processor "${opts.processor}" (known: ${ids.join(", ")})`);
          const shown = opts.processor !== undefined ? [opts.processor] : ids;
          const printed = new Map<string, number>();
          const print = async () => {
            for (const id of shown) {
              const file = record.processors[id]?.logFile;
              if (!file) continue;
              const text = await readFile(file, "utf8").catch(() => "");
              const from = printed.get(id) ?? 0;
              // Whole lines only while following, so a prefix never lands mid-line.
              const end = opts.follow && record.processors[id]?.status === "STARTED" ? text.lastIndexOf("\n") + 1 : text.length;
              if (end <= from) continue;
              printed.set(id, end);
              const chunk = text.slice(from, end);
              ctx.io.stdout(opts.processor !== undefined ? chunk : chunk.replace(/^(?=.)/gm, `${id} | `));
            }
          };
          await print();
          const live = () => shown.some((id) => ["NOT_STARTED", "STARTED"].includes(record.processors[id]?.status ?? "NOT_STARTED")) && !["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "CANCELED"].includes(record.status);
          while (opts.follow && live()) {
            await new Promise((r) => setTimeout(r, FOLLOW_INTERVAL_MS));
            record = await loadExecutionRecord(executionId, { workdir });
            await print();
          }
          return EXIT.ok;
        }),
      );

    async function awsLogs(executionId: string, opts: { processor?: string; follow?: boolean; workdir: string; node: string }) {
      const { loadAwsExecutionRecord, readAwsProcessorLogs, readNodeFile } = await import("../../runtime/aws");
      const node = readNodeFile(opts.node, { cwd: ctx.io.cwd });
      const common = { execution: executionId, node, workdir: resolve(ctx.io.cwd, opts.workdir), env: ctx.io.env };
      const ids = opts.processor !== undefined ? [opts.processor] : (await loadAwsExecutionRecord(common)).snapshot.resolved.map((p) => p.id);
      for (const id of ids) {
        for await (const line of readAwsProcessorLogs({ ...common, processorId: id, follow: opts.follow && opts.processor !== undefined })) {
          ctx.io.stdout(opts.processor !== undefined ? `${line}\n` : `${id} | ${line}\n`);
        }
      }
      return EXIT.ok;
    }
  },
};
