import { AslCatcher, AslGraph, AslMapState, AslObject } from "./types";
import { ChainableState, DONE, compact, renderList } from "./state";

export interface MapProps {
  itemsPath: string;
  itemSelector: AslObject;
  iteration: AslGraph;
  /** Distributed: every iteration is a child execution with its own history (needed past the inline 40-concurrency and history budget). */
  distributed: boolean;
  comment?: string;
  label?: string;
  /** Where the items were put; the tiny result overwrites them. */
  resultPath: string;
  catch?: AslCatcher[];
}

/** Inline Map iterations run at most 40 at a time on AWS; a Distributed Map runs up to 10,000. */
export class MapState extends ChainableState {
  constructor(readonly props: MapProps) {
    super();
  }

  protected render(): AslMapState {
    const p = this.props;
    const endOfBranch = this.endsBranch && this.next === undefined;
    return compact({
      Type: "Map" as const,
      Comment: p.comment,
      ItemsPath: p.itemsPath,
      ItemSelector: p.itemSelector,
      ItemProcessor: p.distributed
        ? { ProcessorConfig: { Mode: "DISTRIBUTED" as const, ExecutionType: "STANDARD" as const }, ...p.iteration }
        : { ProcessorConfig: { Mode: "INLINE" as const }, ...p.iteration },
      MaxConcurrency: p.distributed ? 10000 : 0,
      Label: p.distributed ? p.label : undefined,
      ResultSelector: { ...DONE },
      ResultPath: endOfBranch ? "$" : p.resultPath,
      Catch: renderList(p.catch),
      ...this.renderNextEnd(),
    });
  }
}
