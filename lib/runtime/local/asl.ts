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
