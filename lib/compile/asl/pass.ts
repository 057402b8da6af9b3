import { AslJson, AslObject, AslPassState } from "./types";
import { ChainableState, compact } from "./state";

export interface PassProps {
  comment?: string;
  parameters?: AslObject;
  result?: AslJson;
  resultPath?: string | null;
}

export class PassState extends ChainableState {
  constructor(readonly props: PassProps) {
    super();
  }

  protected render(): AslPassState {
    const p = this.props;
    return compact({ Type: "Pass" as const, Comment: p.comment, Parameters: p.parameters, Result: p.result, ResultPath: p.resultPath, ...this.renderNextEnd() });
  }
}
