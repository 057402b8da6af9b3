import { hostname } from "node:os";
import { ConflictError, UnavailableError } from "../../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../../model/execution-record";
import { loadExecutionRecord } from "./records";

export interface CancelLocalOptions {
  /** The workdir the run was started with. */
  workdir: string;
  /** @default process.kill */
  kill?: (pid: number, signal: NodeJS.Signals | 0) => void;
}

/**
 * Asks the runner of a local execution (another process, named by the record's `runner`) to cancel
 * it: SIGTERM, which `compute-node run` handles as a cancel. Resolves with the record as it was when
 * the signal went out; the runner moves it to CANCELING, then CANCELED.
 */
export async function cancelLocalExecution(executionId: string, options: CancelLocalOptions): Promise<ExecutionRecord> {
  const kill = options.kill ?? ((pid, signal) => process.kill(pid, signal));
  const record = await loadExecutionRecord(executionId, { workdir: options.workdir });
  if (isTerminalExecutionStatus(record.status)) throw new ConflictError(`execution "${executionId}" already ended ${record.status}: there is nothing to cancel`, executionId);
  const runner = record.runner;
  if (!runner) throw new UnavailableError(`execution "${executionId}" is ${record.status} but its record names no runner process (written by an older compute-node): stop that \`compute-node run\` with Ctrl-C`);
  if (runner.host !== hostname()) throw new UnavailableError(`execution "${executionId}" runs on host "${runner.host}", not this one ("${hostname()}"): cancel it there`);
  try {
    kill(runner.pid, "SIGTERM");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH")
      throw new UnavailableError(`execution "${executionId}" is ${record.status} but its runner (pid ${runner.pid}) is gone: the run was interrupted and nothing of it is running any more`, { cause: err });
    throw err;
  }
  return record;
}
