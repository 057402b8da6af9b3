/**
 * The join function's contract (docs/asl-contract.md "Exact mode"): the payloads exact-mode machines
 * send it, what it answers, and the error a refused wait fails with. Imports only lib/errors.ts: the
 * compiler, the Lambda and the local runner all read it.
 */
import { JoinInputError } from "../../errors";

export const JOIN_ACTIONS = { wait: "join-wait", release: "join-release", abort: "join-abort" } as const;

/** The payloads the exact-mode state machine sends to the join Lambda. */
export type JoinEvent = JoinWaitEvent | JoinReleaseEvent | JoinAbortEvent;

export interface JoinWaitEvent {
  action: "join-wait";
  workflowInstanceId: string;
  /** The unit key (the compiler sends the unit's index). */
  unit: string;
  /** Keys of the units it waits for. */
  after: string[];
  token: string;
}

export interface JoinReleaseEvent {
  action: "join-release";
  workflowInstanceId: string;
  /** Keys of the units that just finished. */
  done: string[];
  /** Unit keys of the units that depend on them. */
  dependants: string[];
}

export interface JoinAbortEvent {
  action: "join-abort";
  workflowInstanceId: string;
  /** The failure's error name and (sanitized) cause, kept if this is the instance's first abort. */
  error?: string;
  cause?: string;
  /** What failed, as the cause of every refused wait names it (the compiler sends "a processor of part <c>"). */
  failed: string;
}

export interface JoinResult {
  done: true;
}

/** What an abort answers: the instance's first failure, so every part's machine can fail with it. */
export interface JoinAbortResult extends JoinResult {
  failed: string;
  error: string;
  cause: string;
}

/** The error Step Functions sees on a unit that will never run because a processor failed. */
export const JOIN_ABORTED = "ComputeNode.JoinAborted";

/** Checks a raw Lambda event against the join contract; throws a `JoinInputError` naming the first bad field. */
export function parseJoinEvent(raw: unknown): JoinEvent {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw inputError(`payload must be an object, got ${describe(raw)}`);
  const e = raw as Record<string, unknown>;
  const text = (key: string) => {
    if (typeof e[key] !== "string" || !e[key]) throw inputError(`"${key}" must be a non-empty string, got ${describe(e[key])}`);
    return e[key] as string;
  };
  const ids = (key: string, { allowEmpty }: { allowEmpty: boolean }) => {
    const value = e[key];
    const got = !Array.isArray(value) ? describe(value) : value.some((v) => typeof v !== "string" || !v) ? "an array with an empty or non-string item" : !allowEmpty && !value.length ? "an empty array" : "";
    if (got) throw inputError(`"${key}" must be ${allowEmpty ? "an" : "a non-empty"} array of non-empty strings, got ${got}`);
    return value as string[];
  };
  switch (e.action) {
    case "join-wait":
      return { action: e.action, workflowInstanceId: text("workflowInstanceId"), unit: text("unit"), after: ids("after", { allowEmpty: false }), token: text("token") };
    case "join-release":
      return { action: e.action, workflowInstanceId: text("workflowInstanceId"), done: ids("done", { allowEmpty: false }), dependants: ids("dependants", { allowEmpty: true }) };
    case "join-abort":
      return {
        action: e.action,
        workflowInstanceId: text("workflowInstanceId"),
        failed: text("failed"),
        ...(e.error !== undefined ? { error: text("error") } : {}),
        ...(e.cause !== undefined ? { cause: text("cause") } : {}),
      };
    default:
      throw inputError(`"action" must be "join-wait", "join-release" or "join-abort", got ${typeof e.action === "string" ? JSON.stringify(e.action.slice(0, 40)) : describe(e.action)}`);
  }
}

// Never echo the value itself: a bad payload may carry a task token.
function describe(value: unknown): string {
  return value === undefined ? "nothing (it is missing)" : Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
}

function inputError(message: string): JoinInputError {
  return new JoinInputError(`join payload: ${message}`);
}
