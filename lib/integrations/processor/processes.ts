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
  /** Killed (SIGKILL) after this long, as Lambda stops a function at its timeout. */
  timeoutMs?: number;
  /** Values replaced by `***` in the log (the execution's tokens), should the process print them. */
  secrets?: string[];
  /** Bytes of output kept per attempt; the rest is dropped after a truncation marker, so a chatty processor cannot fill the disk. @default DEFAULT_MAX_LOG_BYTES */
  maxLogBytes?: number;
  /** Called once the process exists, so the runner can stop it when its branch is abandoned. */
  onSpawn?: (child: ChildProcess) => void;
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  spawnError?: string;
  /** Set when the process was killed for running past `timeoutMs`. */
  timedOut?: boolean;
}

/** 16 MiB: far more than a useful log, far less than a full disk. */
export const DEFAULT_MAX_LOG_BYTES = 16 * 1024 * 1024;

/** Runs one command with its output in a log file. The header names the command, never the environment (it holds tokens). */
export function runLogged(options: LaunchOptions): Promise<ProcessOutcome> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, "a", 0o600);
  writeSync(fd, `${options.header}\n`);
  const secrets = (options.secrets ?? []).filter((t) => t.length > 0);
  // Output passes through a redactor (the tokens) and a budget shared by stdout and stderr.
  const budget = new LogBudget(options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES, (bytes) => writeSync(fd, bytes));
  const redactors = [new Redactor(secrets, (t) => budget.writeText(t)), new Redactor(secrets, (t) => budget.writeText(t))];
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: ProcessOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (timedOut) {
        outcome.timedOut = true;
        writeSync(fd, `\nkilled after the ${options.timeoutMs! / 1000} s timeout\n`);
      }
      for (const r of redactors) r.flush();
      if (outcome.spawnError) writeSync(fd, `could not start ${options.argv[0]}: ${outcome.spawnError}\n`);
      closeSync(fd);
      resolve(outcome);
    };
    let child: ChildProcess;
    try {
      // Its own process group, so a stop reaches whatever it started (`sh -c 'a & b'`), and a
      // terminal's Ctrl-C reaches only the runner, which then stops the group itself.
      child = spawn(options.argv[0], options.argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    } catch (err) {
      finish({ exitCode: null, signal: null, spawnError: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    for (const [i, stream] of [child.stdout!, child.stderr!].entries()) {
      stream.setEncoding("utf8");
      // Past the budget the output is still read (and dropped), so the processor never blocks on a full pipe.
      stream.on("data", (chunk: string) => redactors[i].push(chunk));
    }
    if (options.timeoutMs !== undefined)
      timer = setTimeout(() => {
        timedOut = true;
        killProcessGroup(child, "SIGKILL");
      }, options.timeoutMs);
    // The runner exiting (an uncaught error, process.exit) must not leave the group behind.
    const onRunnerExit = () => killProcessGroup(child, "SIGKILL");
    process.once("exit", onRunnerExit);
    options.onSpawn?.(child);
    child.on("error", (err: NodeJS.ErrnoException) => {
      process.off("exit", onRunnerExit);
      finish({ exitCode: null, signal: null, spawnError: err.code ?? err.message });
    });
    // What the processor left running in its group ends with it, as a container's processes end with the task;
    // 'close' then follows once nothing holds its output pipes.
    child.on("exit", () => killProcessGroup(child, "SIGKILL"));
    child.on("close", (code, signal) => {
      process.off("exit", onRunnerExit);
      finish({ exitCode: code, signal });
    });
  });
}

/** Signals a processor's whole process group (it was spawned detached, as its leader); a group already gone is not an error. */
export function killProcessGroup(child: Pick<ChildProcess, "pid">, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** Replaces secrets in a text stream, holding back a tail that could be the start of one split across chunks. */
class Redactor {
  private carry = "";
  private readonly keep: number;
  constructor(
    private readonly secrets: string[],
    private readonly write: (text: string) => void,
  ) {
    this.keep = secrets.length ? Math.max(...secrets.map((s) => s.length)) - 1 : 0;
  }
  push(chunk: string) {
    let text = this.carry + chunk;
    for (const secret of this.secrets) text = text.split(secret).join("***");
    const cut = Math.max(0, text.length - this.keep);
    if (cut > 0) this.write(text.slice(0, cut));
    this.carry = text.slice(cut);
  }
  flush() {
    if (this.carry) this.write(this.carry);
    this.carry = "";
  }
}

/** Writes at most `limit` bytes, then one marker line, then nothing. */
class LogBudget {
  private remaining: number;
  private truncated = false;
  constructor(
    private readonly limit: number,
    private readonly write: (bytes: Buffer) => void,
  ) {
    this.remaining = limit;
  }
  writeText(text: string) {
    if (this.truncated || text.length === 0) return;
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length <= this.remaining) {
      this.remaining -= bytes.length;
      this.write(bytes);
      return;
    }
    this.write(bytes.subarray(0, this.remaining));
    this.remaining = 0;
    this.truncated = true;
    this.write(Buffer.from(`\n[log truncated: the processor wrote more than ${this.limit} bytes in this attempt; the rest of its output was discarded]\n`));
  }
}
