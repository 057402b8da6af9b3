import { ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface LaunchOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout and stderr both go here, appended; the file gets a header per attempt. */
  logFile: string;
  header: string;
  /** Called once the process exists, so the runner can stop it when its branch is abandoned. */
  onSpawn?: (child: ChildProcess) => void;
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: string;
}

/** Runs one command with its output in a log file. The header names the command, never the environment (it holds tokens). */
export function runLogged(options: LaunchOptions): Promise<ProcessOutcome> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, "a", 0o600);
  writeSync(fd, `${options.header}\n`);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: ProcessOutcome) => {
      if (settled) return;
      settled = true;
      if (outcome.spawnError) writeSync(fd, `could not start ${options.argv[0]}: ${outcome.spawnError}\n`);
      closeSync(fd);
      resolve(outcome);
    };
    let child: ChildProcess;
    try {
      child = spawn(options.argv[0], options.argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ["ignore", fd, fd] });
    } catch (err) {
      finish({ exitCode: null, signal: null, spawnError: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    options.onSpawn?.(child);
    child.on("error", (err: NodeJS.ErrnoException) => finish({ exitCode: null, signal: null, spawnError: err.code ?? err.message }));
    child.on("close", (code, signal) => finish({ exitCode: code, signal }));
  });
}
