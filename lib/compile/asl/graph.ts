import { AslGraph, AslState } from "./types";
import { State } from "./state";

/** The states of one scope (machine, branch or Map iteration), in insertion order so the output is deterministic. */
export class StateGraph {
  private readonly states = new Map<string, State>();

  constructor(private readonly scope: string) {}

  add<S extends State>(name: string, state: S): S {
    if (this.states.has(name)) throw new Error(`internal: state "${name}" occurs twice in ${this.scope}`);
    this.states.set(name, state);
    return state;
  }

  toGraphJson(startAt: string): AslGraph {
    if (!this.states.has(startAt)) throw new Error(`internal: StartAt "${startAt}" is not a state of ${this.scope}`);
    const States: Record<string, AslState> = {};
    for (const [name, state] of this.states) States[name] = state.toStateJson();
    return { StartAt: startAt, States };
  }
}
