import { Command, CommanderError } from "commander";
import { packageVersion } from "../package-root";
import { CliCommand, CliContext, CliIo, EXIT, processIo } from "./io";
import { validateCommand } from "./commands/validate";
import { runCommand } from "./commands/run";
import { graphCommand } from "./commands/graph";
import { statusCommand } from "./commands/status";
import { compileCommand } from "./commands/compile";
import { serveCommand } from "./commands/serve";
import { deployCommand } from "./commands/deploy";
import { startCommand } from "./commands/start";
import { cleanupCommand } from "./commands/cleanup";
import { nodeCommand } from "./commands/node";
import { llmCommand } from "./commands/llm";
import { costCommand } from "./commands/cost";
import { executionsCommand } from "./commands/executions";
import { cancelCommand } from "./commands/cancel";
import { logsCommand } from "./commands/logs";

// Each command lives in its own module under ./commands; add one line here per command. Registering
// must stay cheap (see CliCommand): what a command runs with is imported inside its action.
const COMMANDS: CliCommand[] = [
  validateCommand,
  runCommand,
  graphCommand,
  statusCommand,
  compileCommand,
  serveCommand,
  deployCommand,
  startCommand,
  cleanupCommand,
  nodeCommand,
  llmCommand,
  costCommand,
  executionsCommand,
  cancelCommand,
  logsCommand,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("compute-node")
    .description("Provision workflow compute nodes on AWS and run workflow DAGs on Step Functions, or locally with no AWS account.")
    .version(packageVersion(), "-V, --version", "print the compute-node version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) })
    .showHelpAfterError();
  for (const command of COMMANDS) command.register(program, ctx);
  return program;
}

/** Runs the CLI and resolves to its exit code; never calls process.exit, so tests can drive it. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const ctx: CliContext = { io, exitCode: EXIT.ok };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    throw err;
  }
}
