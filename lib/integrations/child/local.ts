import { TaskError } from "../../runtime/local/task-error";
import { Clock, systemClock } from "../../clock";

export interface ChildRun {
  executionArn: string;
  output: unknown;
}

/** Runs a child machine to completion; rejects with the child's `{ error, cause }` when it fails. */
export type ChildRunner = (childName: string, input: unknown) => Promise<ChildRun>;

export class ChildExecutionFailed extends Error {
  override name = "ChildExecutionFailed";
  constructor(readonly executionArn: string, readonly error: string, readonly causeText: string) {
    super(`${error}: ${causeText}`);
  }
}

/** `states:startExecution.sync:2`: runs the child in-process and answers like DescribeExecution with parsed Output. */
export function childMachineHandler(childName: string, stateMachineArnOf: (child: string) => string, runChild: ChildRunner, now: Clock = systemClock) {
  return async (input: unknown) => {
    const params = (input ?? {}) as { Input?: unknown; Name?: string };
    const startDate = now().toISOString();
    try {
      const run = await runChild(childName, params.Input ?? {});
      return {
        ExecutionArn: run.executionArn,
        StateMachineArn: stateMachineArnOf(childName),
        Name: run.executionArn.split(":").pop(),
        Status: "SUCCEEDED",
        StartDate: startDate,
        StopDate: now().toISOString(),
        Input: params.Input ?? {},
        Output: run.output,
        OutputDetails: { Included: true },
      };
    } catch (err) {
      if (err instanceof ChildExecutionFailed)
        throw new TaskError("States.TaskFailed", { ExecutionArn: err.executionArn, StateMachineArn: stateMachineArnOf(childName), Status: "FAILED", Error: err.error, Cause: err.causeText });
      throw err;
    }
  };
}
