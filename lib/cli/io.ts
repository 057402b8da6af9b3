import { Command } from "commander";
import { isComputeNodeError, ValidationError, ComputeNodeError } from "../errors";

/** Exit codes of every command: 0 ok, 1 the workflow (or the operation) failed, 2 invalid input. */
export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

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

/** A command module: adds itself to the program and sets `ctx.exitCode` when it runs. */
export interface CliCommand {
  register(program: Command, ctx: CliContext): void;
}

export interface CliContext {
  io: CliIo;
  exitCode: number;
}

/** Renders an error for humans (stderr) or machines (`--json` on stdout), and picks the exit code once. */
export function reportError(err: unknown, ctx: CliContext, json: boolean): number {
  const code = err instanceof ValidationError ? EXIT.invalid : isComputeNodeError(err) && (err as ComputeNodeError).code === "invalid_input" ? EXIT.invalid : EXIT.failed;
  if (json) {
    const body = isComputeNodeError(err)
      ? { error: { name: err.name, code: err.code, message: err.message, ...(err instanceof ValidationError ? { issues: err.issues } : {}) } }
      : { error: { name: "Error", code: "internal", message: err instanceof Error ? err.message : String(err) } };
    ctx.io.stdout(JSON.stringify(body, null, 2) + "\n");
  } else {
    const message = err instanceof Error ? err.message : String(err);
    ctx.io.stderr(`${err instanceof ValidationError ? "invalid input" : "error"}: ${message}\n`);
  }
  return code;
}
