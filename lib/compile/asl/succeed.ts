import { AslSucceedState } from "./types";
import { State, compact } from "./state";

export class SucceedState extends State {
  constructor(readonly props: { comment?: string; outputPath?: string | null } = {}) {
    super();
  }

  toStateJson(): AslSucceedState {
    return compact({ Type: "Succeed" as const, Comment: this.props.comment, OutputPath: this.props.outputPath });
  }
}
