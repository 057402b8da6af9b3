import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "..", "..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (stderr never is: the AWS SDK prints deprecation warnings there). */
  json<T = any>(): T;
}

/** Credentials and endpoint every command of the tier runs with: moto, never a real account. */
export function motoEnv(endpoint: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A developer's own AWS settings must not leak into the tier.
  for (const key of Object.keys(env)) if (key.startsWith("AWS_") || key.startsWith("PULUMI_")) delete env[key];
  return {
    ...env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    ...extra,
  };
}

/**
 * Runs `node bin/compute-node.js …` (the real CLI, as an operator would) and collects its output.
 * Its stderr (engine progress) is appended to `log` so a failure can be read afterwards, and echoed
 * live with E2E_VERBOSE=1.
 */
export function cli(args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string; log: string }): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    appendFileSync(opts.log, `\n$ compute-node ${args.join(" ")}\n`);
    const child = spawn(process.execPath, [join(ROOT, "bin", "compute-node.js"), ...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      appendFileSync(opts.log, d);
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      appendFileSync(opts.log, d);
      if (process.env.E2E_VERBOSE) process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code) =>
      resolvePromise({
        code: code ?? 1,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`compute-node ${args.join(" ")} printed no JSON on stdout (exit ${code}):\n${stdout}\n--- stderr tail ---\n${stderr.split("\n").slice(-30).join("\n")}`);
          }
        },
      }),
    );
  });
}

/** Fails with the command's own output, not just its exit code. */
export function ok(result: CliResult, what: string): CliResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr tail ---\n${result.stderr.split("\n").slice(-60).join("\n")}`);
  return result;
}
