import { TaskError } from "../../runtime/local/task-error";

interface Waiter {
  after: string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The local stand-in for exact mode's join function: the same contract (wait until every processor
 * in `after` is released, fail every waiter once the instance is aborted), kept in memory because
 * every machine of a local run shares one process.
 */
export class LocalJoins {
  private readonly done = new Set<string>();
  private waiters: Waiter[] = [];
  private aborted?: string;
  private firstFailure?: { failed: string; error: string; cause: string };

  wait(after: string[]): Promise<void> {
    if (this.aborted !== undefined) return Promise.reject(this.abortError(this.aborted));
    if (after.every((id) => this.done.has(id))) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ after, resolve, reject }));
  }

  release(done: string[]): void {
    for (const id of done) this.done.add(id);
    const ready = this.waiters.filter((w) => w.after.every((id) => this.done.has(id)));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** Records the instance's first failure (as the join function does) and answers with it. */
  abort(failed: string, error?: string, cause?: string): { failed: string; error: string; cause: string } {
    this.firstFailure ??= { failed, error: error ?? "ComputeNode.JoinAborted", cause: cause ?? `${failed} failed` };
    this.aborted ??= failed;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(this.abortError(this.aborted));
    return this.firstFailure;
  }

  private abortError(failed: string): Error {
    return new TaskError("ComputeNode.JoinAborted", `the run was aborted (${failed} failed), so this unit will not run`);
  }
}

const stringList = (value: unknown, field: string, state: string): string[] => {
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new TaskError("States.Runtime", `local runner: state "${state}" calls the join function without a string list "${field}"`);
};

/** join-wait, join-release and join-abort Tasks, by the action of their payload. */
export function joinHandler(joins: LocalJoins, state: string, action: "join-wait" | "join-release" | "join-abort") {
  return async (payload: Record<string, unknown>) => {
    switch (action) {
      case "join-wait":
        await joins.wait(stringList(payload.after, "after", state));
        break;
      case "join-release":
        joins.release(stringList(payload.done, "done", state));
        break;
      case "join-abort": {
        const text = (v: unknown) => (typeof v === "string" ? v : undefined);
        // Shaped like a lambda:invoke result: the part's abort reads $.Payload.error and $.Payload.cause.
        return { StatusCode: 200, Payload: { done: true, ...joins.abort(text(payload.failed) ?? "a processor", text(payload.error), text(payload.cause)) } };
      }
    }
    return { done: true };
  };
}
