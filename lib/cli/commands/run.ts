import { dirname, join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { LocalRunEvent } from "../../runtime/local";
import { STRUCTURE_MODES, StructureMode } from "../../compile/structure-modes";
import { CliCommand, CliContext, EXIT } from "../io";
import { runAction, writeJson } from "../action";
import { formatRecord } from "../format-record";
import { isS3Destination } from "../../model/destination-patterns";

interface RunOptions {
  processors?: string;
  input: string;
  workdir: string;
  invocation?: string;
  mode?: string;
  concurrency?: number;
  structure: StructureMode;
  llmConfig?: string;
  pricingRegion: string;
  outputs?: string;
  json?: boolean;
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
};

export const runCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("run")
      .description(
        "Run a workflow locally: the compiled state machine executes in-process (real ASL semantics) and each processor runs as a child process " +
          "(its localCommand, or its image under Docker). Progress goes to stderr; the record is kept under <workdir>/executions/<id>/.",
      )
      .argument("<workflow>", "workflow JSON file")
      .option("--processors <file>", "processors file (a JSON array of registrations, or {\"processors\": [...]}; schemas/processors.schema.json); localCommand paths are relative to this file's directory")
      .requiredOption("--input <dir>", "directory whose files become the first processors' INPUT_DIR")
      .option("--workdir <dir>", "where outputs, records, logs and archives go", ".compute-node")
      .option("--invocation <file>", "workflow invocation JSON (processorConfigs, computeTypeOverrides)")
      .option("--mode <mode>", "deployment mode: basic, secure or compliant", "basic")
      .option("--concurrency <n>", "processors running at once (default: CPU count × 4)", positiveInt)
      .addOption(new Option("--structure <structure>", "how the DAG is compiled, as `compile --structure` (exact: joins in memory, as the node's join function does on AWS)").choices(STRUCTURE_MODES).default("auto"))
      .option("--llm-config <file>", "give processors governed LLM access: a local governor (docs/llm.md) with this LLM configuration; each processor gets ANTHROPIC_BASE_URL and its own key, usage goes to <workdir>/llm")
      .option("--pricing-region <region>", "AWS region whose prices the run's cost report uses (lib/cost/prices)", "us-east-1")
      .option(
        "--outputs <dest>",
        "after the DAG succeeds, copy every sink processor's outputs to <dest>/<processorId>/: a directory, or s3://bucket/prefix/ (uploaded with the AWS environment's credentials; AWS_ENDPOINT_URL honoured); {workflowInstanceId} is replaced by the run's id; overrides the invocation's outputs",
      )
      .option("--json", "final execution record on stdout; progress events as JSON lines on stderr")
      .action((workflow: string, opts: RunOptions) =>
        runAction(ctx, opts, async () => {
          const [{ runLocalWorkflow, localCompiler }, { loadPlan }] = await Promise.all([import("../../runtime/local"), import("../load-inputs")]);
          const plan = loadPlan(workflow, opts, ctx.io.cwd);
          // An unpriced region would only show up as a "missing" line of the report: refuse it before anything runs.
          (await import("../../cost/price-table")).priceTableFor(opts.pricingRegion, ["--pricing-region"]);
          // Ctrl-C stops the processors' process groups and ends the record ABORTED instead of leaving it RUNNING;
          // SIGTERM (what `compute-node cancel` sends) is a cancel: cleanup and finalize run, the record ends CANCELED.
          const { cancelReason } = await import("../../runtime/local");
          const controller = new AbortController();
          const onInterrupt = () => controller.abort();
          const onTerminate = () => controller.abort(cancelReason());
          process.once("SIGINT", onInterrupt);
          process.once("SIGTERM", onTerminate);
          const workdir = resolve(ctx.io.cwd, opts.workdir);
          const llm = opts.llmConfig ? await startRunGovernor(opts.llmConfig, workdir, ctx) : undefined;
          if (llm && !opts.json) ctx.io.stderr(`LLM access: governor on ${llm.url} (${llm.settings.models.map((m) => m.id).join(", ")}; usage in ${join(workdir, "llm")})\n`);
          const record = await runLocalWorkflow({
            signal: controller.signal,
            plan,
            inputDir: resolve(ctx.io.cwd, opts.input),
            workdir,
            llm,
            pricingRegion: opts.pricingRegion,
            ...(plan.invocation.outputs !== undefined && isS3Destination(plan.invocation.outputs) ? { s3: await s3FromEnvironment(ctx.io.env) } : {}),
            concurrency: opts.concurrency,
            compile: localCompiler({ structure: opts.structure }),
            commandCwd: opts.processors ? dirname(resolve(ctx.io.cwd, opts.processors)) : ctx.io.cwd,
            env: ctx.io.env,
            onEvent: opts.json ? (e) => ctx.io.stderr(JSON.stringify(e) + "\n") : progressPrinter(ctx),
          }).finally(async () => {
            process.off("SIGINT", onInterrupt);
            process.off("SIGTERM", onTerminate);
            await llm?.close();
          });
          if (opts.json) writeJson(ctx, record);
          else {
            ctx.io.stdout(formatRecord(record));
            const outputs = record.artifacts?.outputs;
            const done = record.snapshot.resolved.filter((p) => record.processors[p.id]?.status === "SUCCEEDED");
            if (outputs && done.length) ctx.io.stdout(`output directories:\n${done.map((p) => `  ${p.id}: ${join(outputs, p.hash)}`).join("\n")}\n`);
            if (record.outputs) ctx.io.stdout(`uploaded ${record.outputs.files} files (${record.outputs.bytes} bytes) of ${record.outputs.processorCount} sink processors to ${record.outputs.destination}\n`);
          }
          return record.status === "SUCCEEDED" ? EXIT.ok : EXIT.failed;
        }),
      );
  },
};

/** An S3 client for an s3:// `--outputs` of a local run, configured from the environment as the AWS commands' clients are. */
async function s3FromEnvironment(env: NodeJS.ProcessEnv) {
  const { createAwsClients } = await import("../../runtime/aws");
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  // The command's environment, not necessarily the process's: the SDK's own chain would read process.env.
  const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } : undefined;
  return createAwsClients({ region, env, ...(credentials ? { credentials } : {}) }).s3;
}

/** The run's in-process governor: only the keys it grants the run's processors are accepted. */
async function startRunGovernor(configFile: string, workdir: string, ctx: CliContext) {
  const { loadLlmConfig } = await import("../llm-config");
  const { startLocalGovernor } = await import("../../integrations/llm/local");
  return startLocalGovernor({ config: await loadLlmConfig(configFile, ctx.io, "--llm-config"), usage: { dir: join(workdir, "llm") }, env: ctx.io.env });
}

/** One line per event on stderr, stamped with the time since the run started (by the run's own clock: events carry it). */
function progressPrinter(ctx: CliContext) {
  let started: number | undefined;
  return (e: LocalRunEvent) => {
    const at = Date.parse(e.timestamp);
    started ??= at;
    const line = (text: string) => ctx.io.stderr(`[${((at - started!) / 1000).toFixed(1).padStart(5)}s] ${text}\n`);
    switch (e.type) {
      case "execution-started":
        started = at;
        return line(`running "${e.workflowName}" (${e.processorCount} processors) as ${e.executionId}`);
      case "processor-started":
        return line(`▶ ${e.processorId}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}`);
      case "processor-finished":
        return e.status === "SUCCEEDED"
          ? line(`✔ ${e.processorId} ${(e.durationMs / 1000).toFixed(1)}s [${e.done}/${e.total}]`)
          : line(`✖ ${e.processorId} ${e.cause ?? "failed"} [${e.done}/${e.total}]`);
      case "processor-retrying":
        return line(`↻ ${e.processorId} attempt ${e.attempt} ${e.cause}`);
      case "step":
        return line(`· ${e.step}${e.processorId ? ` for ${e.processorId}` : ""}: ${e.detail}`);
      case "execution-finished":
        return line(`${e.status === "SUCCEEDED" ? "✔" : "✖"} ${e.status} in ${(e.durationMs / 1000).toFixed(1)}s${e.error ? `: ${e.error.cause ?? e.error.error}` : ""}`);
    }
  };
}
