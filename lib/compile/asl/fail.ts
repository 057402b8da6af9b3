import { AslFailState } from "./types";
import { State, compact } from "./state";

export interface FailProps {
  error?: string;
  cause?: string;
  errorPath?: string;
  causePath?: string;
  comment?: string;
}

export class FailState extends State {
  constructor(readonly props: FailProps) {
    super();
  }

  toStateJson(): AslFailState {
    const p = this.props;
    return compact({ Type: "Fail" as const, Comment: p.comment, Error: p.error, Cause: p.cause, ErrorPath: p.errorPath, CausePath: p.causePath });
  }
}
