import { AslCatcher, AslObject, AslRetrier, AslTaskState } from "./types";
import { ChainableState, DONE, compact, renderRetryCatch } from "./state";

export interface TaskProps {
  resource: string;
  parameters: AslObject;
  comment?: string;
  resultSelector?: AslObject;
  /** Where the result goes; `null` discards it. @default "$" */
  resultPath?: string | null;
  timeoutSeconds: number;
  retry?: AslRetrier[];
  catch?: AslCatcher[];
  /** The result path used when the state ends a branch: the result (already tiny) replaces the state. */
  branchEndResultPath?: string | null;
}

export class TaskState extends ChainableState {
  constructor(readonly props: TaskProps) {
    super();
  }

  protected render(): AslTaskState {
    const p = this.props;
    const endOfBranch = this.endsBranch && this.next === undefined;
    return compact({
      Type: "Task" as const,
      Comment: p.comment,
      Resource: p.resource,
      Parameters: p.parameters,
      ResultSelector: endOfBranch ? p.resultSelector ?? { ...DONE } : p.resultSelector,
      ResultPath: endOfBranch ? "$" : p.resultPath,
      TimeoutSeconds: p.timeoutSeconds,
      ...renderRetryCatch(p.retry, p.catch),
      ...this.renderNextEnd(),
    });
  }
}
