/** The few ASL shapes the local runner reads; the compiler owns the full types. */
export interface AslState {
  Type: string;
  Comment?: string;
  Resource?: string;
  Branches?: AslMachine[];
  Iterator?: AslMachine;
  ItemProcessor?: AslMachine;
  [key: string]: unknown;
}

export interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
  Comment?: string;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}

export const RESOURCES = {
  getSecretValue: "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
  ecsRunTaskSync: "arn:aws:states:::ecs:runTask.sync",
  lambdaInvoke: "arn:aws:states:::lambda:invoke",
  startExecutionSync2: "arn:aws:states:::states:startExecution.sync:2",
  startExecutionSync: "arn:aws:states:::states:startExecution.sync",
} as const;

/** Every Task state of a machine, nested Parallel branches and Map iterations included (names are unique machine-wide). */
export function taskStates(machine: AslMachine): Map<string, AslState> {
  const found = new Map<string, AslState>();
  const visit = (m: AslMachine) => {
    for (const [name, state] of Object.entries(m.States)) {
      if (state.Type === "Task") found.set(name, state);
      for (const branch of state.Branches ?? []) visit(branch);
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) visit(inner);
    }
  };
  visit(machine);
  return found;
}

/**
 * Node timers overflow above 2^31-1 ms (about 24.8 days) and then fire after 1 ms, so a Task with
 * Step Functions' maximum TimeoutSeconds (99999999) would time out at once under
 * aws-local-stepfunctions. A Task without a timeout has none on AWS but 60 s in that library.
 * Returns a copy where every Task has a timeout and none exceeds what a timer can hold; the states
 * in `lift` get the longest one.
 */
export const MAX_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function capTimeouts(machine: AslMachine, lift: ReadonlySet<string> = new Set()): AslMachine {
  const copy = structuredClone(machine);
  const visit = (m: AslMachine) => {
    if (typeof m.TimeoutSeconds === "number") m.TimeoutSeconds = Math.min(m.TimeoutSeconds, MAX_LOCAL_TIMEOUT_SECONDS);
    for (const [name, state] of Object.entries(m.States)) {
      if (lift.has(name)) state.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
      else if (typeof state.TimeoutSeconds === "number") state.TimeoutSeconds = Math.min(state.TimeoutSeconds, MAX_LOCAL_TIMEOUT_SECONDS);
      else if (state.Type === "Task" && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = MAX_LOCAL_TIMEOUT_SECONDS;
      for (const branch of state.Branches ?? []) visit(branch);
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) visit(inner);
    }
  };
  visit(copy);
  return copy;
}
