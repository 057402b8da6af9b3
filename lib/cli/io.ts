import type { Command } from "commander";
import { CompileError, ErrorKind, errorKind, InternalError, isComputeNodeError, ValidationError } from "../errors";

/** Exit codes of every command: 0 ok, 1 the workflow (or the operation) failed, 2 invalid input. */
export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

/** Execution ARNs, as lib/runtime/aws/status.ts reads them: recognised here so a local command never loads the AWS SDK. */
export const LOOKS_LIKE_EXECUTION_ARN = /^arn:aws[a-z-]*:states:/;

/** Where a command writes; injected so tests capture output without spawning a process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Current directory for relative paths. */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export const processIo = (): CliIo => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
});

/**
 * A command module: adds itself to the program and sets `ctx.exitCode` when it runs. Registering
 * must stay cheap (commander and this folder only): `--help` loads every command module, so what a
 * command needs to run is imported inside its action.
 */
export interface CliCommand {
  register(program: Command, ctx: CliContext): void;
}

export interface CliContext {
  io: CliIo;
  exitCode: number;
}

/** How every command ends on an error (errorKind in lib/errors.ts decides the kind; this, the code). */
const EXIT_BY_KIND: Record<ErrorKind, number> = {
  invalid_input: EXIT.invalid,
  not_found: EXIT.failed,
  conflict: EXIT.failed,
  unavailable: EXIT.failed,
  failed: EXIT.failed,
  internal: EXIT.failed,
};

/** The one place a command's error becomes its exit code and its output. */
export function exitCodeOf(err: unknown): number {
  return EXIT_BY_KIND[errorKind(err)];
}

/** Renders an error for humans (stderr) or machines (`--json`: JSON on stdout) and returns the exit code. */
export function reportError(err: unknown, ctx: CliContext, { json }: { json: boolean }): number {
  if (json) {
    const body = isComputeNodeError(err)
      ? {
          error: {
            name: err.name,
            code: err.code,
            message: err.message,
            ...(err instanceof ValidationError ? { issues: err.issues } : {}),
            ...(err instanceof CompileError && err.processorIds.length ? { processorIds: err.processorIds } : {}),
          },
        }
      : { error: { name: "Error", code: "internal", message: err instanceof Error ? err.message : String(err) } };
    ctx.io.stdout(JSON.stringify(body, null, 2) + "\n");
  } else {
    const message = err instanceof Error ? err.message : String(err);
    ctx.io.stderr(`${headline(err)}: ${message}\n`);
  }
  return exitCodeOf(err);
}

function headline(err: unknown): string {
  if (err instanceof ValidationError) return "invalid input";
  if (err instanceof CompileError) return "cannot compile";
  if (err instanceof InternalError) return "internal error";
  return "error";
}
