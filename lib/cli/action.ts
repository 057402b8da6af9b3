import { CliContext, reportError } from "./io";

type Body = () => Promise<number> | number;

/**
 * Wraps a command body: its returned number becomes the exit code, and any error is rendered once
 * (stderr, or JSON on stdout with `--json`) with the exit code reportError picks. Pass the command's
 * options (only `json` is read).
 */
export async function runAction(ctx: CliContext, options: { json?: boolean }, body: Body): Promise<void> {
  const json = !!options.json;
  try {
    ctx.exitCode = await body();
  } catch (err) {
    ctx.exitCode = reportError(err, ctx, { json });
  }
}

export const writeJson = (ctx: CliContext, value: unknown) => ctx.io.stdout(JSON.stringify(value, null, 2) + "\n");
