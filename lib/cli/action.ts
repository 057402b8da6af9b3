import { CliContext, reportError } from "./io";

/**
 * Wraps a command body: its returned number becomes the exit code, and any error is rendered once
 * (stderr, or JSON on stdout with `--json`) with the exit code reportError picks.
 */
export async function runAction(ctx: CliContext, json: boolean, body: () => Promise<number> | number): Promise<void> {
  try {
    ctx.exitCode = await body();
  } catch (err) {
    ctx.exitCode = reportError(err, ctx, json);
  }
}

export const writeJson = (ctx: CliContext, value: unknown) => ctx.io.stdout(JSON.stringify(value, null, 2) + "\n");
