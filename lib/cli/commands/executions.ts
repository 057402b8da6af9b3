import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
};

export const executionsCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("executions")
      .description("List execution records newest first: a workdir's local runs, or with --node an AWS node's executions (as recorded; `status ID --node` refreshes one).")
      .option("--workdir <dir>", "workdir of the local runs", ".compute-node")
      .option("--status <status>", "only executions with this status (RUNNING, SUCCEEDED, FAILED, CANCELED, …)")
      .option("--workflow <name>", "only executions of this workflow")
      .option("--limit <n>", "at most this many", positiveInt)
      .option("--node <file>", "AWS: the node's stack outputs (region, record table)")
      .option("--json", "the records on stdout")
      .action((opts: { workdir: string; status?: string; workflow?: string; limit?: number; node?: string; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const [{ ValidationError }, { ExecutionStatusSchema }] = await Promise.all([import("../../errors"), import("../../model/execution-record")]);
          if (opts.status !== undefined && !ExecutionStatusSchema.safeParse(opts.status).success)
            throw new ValidationError([{ code: "invalid_status", path: ["--status"], message: `--status "${opts.status}" is not an execution status (known: ${ExecutionStatusSchema.options.join(", ")})` }]);
          const filters = { workdir: resolve(ctx.io.cwd, opts.workdir), status: opts.status, workflow: opts.workflow, limit: opts.limit };
          const records = opts.node !== undefined ? await awsExecutions(opts.node, filters) : await (await import("../../runtime/local")).listLocalExecutions(filters);
          if (opts.json) {
            writeJson(ctx, records);
            return EXIT.ok;
          }
          const rows = records.map((r) => [r.executionId, r.status, r.snapshot.workflow.name, r.createdAt, r.finishedAt ?? ""]);
          const header = ["EXECUTION", "STATUS", "WORKFLOW", "CREATED", "FINISHED"];
          const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
          const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
          ctx.io.stdout(records.length ? [header, ...rows].map(fmt).join("\n") + "\n" : "no executions\n");
          return EXIT.ok;
        }),
      );

    async function awsExecutions(file: string, filters: { workdir: string; status?: string; workflow?: string; limit?: number }) {
      const { listAwsExecutions, readNodeFile } = await import("../../runtime/aws");
      return listAwsExecutions({ ...filters, node: readNodeFile(file, { cwd: ctx.io.cwd }), env: ctx.io.env });
    }
  },
};
