import { AslCatcher, AslGraph, AslParallelState } from "./types";
import { ChainableState, DONE, compact, renderList } from "./state";

export interface ParallelProps {
  branches: AslGraph[];
  comment?: string;
  catch?: AslCatcher[];
}

/** Runs its branches together and waits for all; the branches' outputs are dropped, the input passes through. */
export class ParallelState extends ChainableState {
  constructor(readonly props: ParallelProps) {
    super();
    if (props.branches.length === 0) throw new Error("internal: a Parallel state needs at least one branch");
  }

  protected render(): AslParallelState {
    const endOfBranch = this.endsBranch && this.next === undefined;
    return compact({
      Type: "Parallel" as const,
      Comment: this.props.comment,
      Branches: this.props.branches,
      ResultSelector: { ...DONE },
      ResultPath: endOfBranch ? "$" : null,
      Catch: renderList(this.props.catch),
      ...this.renderNextEnd(),
    });
  }
}
