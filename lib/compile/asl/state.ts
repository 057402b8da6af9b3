import { AslCatcher, AslRetrier, AslState } from "./types";

/** A state that renders itself; the graph only assembles StartAt/States. */
export abstract class State {
  abstract toStateJson(): AslState;
}

/** A state that continues with `Next` or ends its branch. Wiring twice is a bug, so it throws. */
export abstract class ChainableState extends State {
  private nextName?: string;
  private rendered?: { key: string; json: AslState };
  /** Set when the state ends a branch or Map iteration: it then outputs only a tiny value, so results gathered by a Parallel or Map stay far below the 256 KiB payload limit. */
  protected endsBranch = false;

  get next(): string | undefined {
    return this.nextName;
  }

  setNext(name: string): void {
    if (this.nextName !== undefined) throw new Error(`internal: state already continues with "${this.nextName}", cannot also continue with "${name}"`);
    this.nextName = name;
  }

  markEndOfBranch(): void {
    this.endsBranch = true;
  }

  /** Rendered once per wiring: compile measures a state's size before placing it, then emits the same object. */
  toStateJson(): AslState {
    const key = `${this.nextName ?? ""}\u0000${this.endsBranch}`;
    if (this.rendered?.key === key) return this.rendered.json;
    const json = this.render();
    this.rendered = { key, json };
    return json;
  }

  protected abstract render(): AslState;

  protected renderNextEnd(): { Next: string } | { End: true } {
    return this.nextName !== undefined ? { Next: this.nextName } : { End: true };
  }
}

export function renderList<T>(items: T[] | undefined): T[] | undefined {
  return items && items.length ? items : undefined;
}

export function renderRetryCatch(retry: AslRetrier[] | undefined, catchers: AslCatcher[] | undefined): { Retry?: AslRetrier[]; Catch?: AslCatcher[] } {
  return { Retry: renderList(retry), Catch: renderList(catchers) };
}

/** Drops keys whose value is undefined, so the JSON has no `"Retry": undefined` holes and key order stays fixed. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** The tiny result a state keeps: processors' and structures' real results are dropped (they may echo tokens or grow with fan-out). */
export const DONE = { done: true } as const;
