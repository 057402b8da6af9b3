import { AslChoiceRule, AslChoiceState } from "./types";
import { State, compact } from "./state";

export class ChoiceState extends State {
  constructor(readonly props: { choices: AslChoiceRule[]; default: string; comment?: string }) {
    super();
  }

  toStateJson(): AslChoiceState {
    return compact({ Type: "Choice" as const, Comment: this.props.comment, Choices: this.props.choices, Default: this.props.default });
  }
}
