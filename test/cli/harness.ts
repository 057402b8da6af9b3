import { main } from "../../lib/cli/main";
import { CliIo } from "../../lib/cli/io";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, as `compute-node <args>` would, capturing its output. */
export async function cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
  };
  const code = await main(["node", "compute-node", ...args], io);
  return { code, stdout, stderr };
}
