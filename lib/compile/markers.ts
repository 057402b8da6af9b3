import { AslGraph, AslState, AslStateMachine, AslTaskState } from "./asl/types";
import { RESOURCE } from "./asl/resources";

export type MarkerKind = "processor" | "map" | "child" | "resolve-token" | "merge" | "download" | "upload" | "cleanup" | "finalize" | "exact" | "join-wait" | "join-release" | "join-abort";

export interface StateMarker {
  kind: MarkerKind;
  /** The processors the state serves: the one it runs (or resolves a token / merges inputs for), a Map's members; empty for envelope states and child starts. */
  processorIds: string[];
  /** Child machine name, for kind `child`. */
  child?: string;
  /** Kind `exact`: the Map's items, one unit key (the unit's index in the compiled order) per iteration. */
  units?: string[];
  /** Kinds `join-wait` and `join-release`: the unit that waits, or that has finished. */
  unit?: string;
  /** Kind `join-wait`: the units it waits for. */
  after?: string[];
}

export const PROCESSOR_PREFIX = "processor:";
export const MAP_PREFIX = "processors:";
export const CHILD_PREFIX = "child:";
export const EXACT_PREFIX = "exact:";

export function processorComment(id: string): string {
  return `${PROCESSOR_PREFIX}${id}`;
}

export function mapComment(ids: string[]): string {
  return `${MAP_PREFIX}${JSON.stringify(ids)}`;
}

/** An exact-mode Distributed Map: each iteration selects the unit named by its item (`$.u`) with a Choice. */
export function exactComment(unitKeys: string[]): string {
  return `${EXACT_PREFIX}${JSON.stringify(unitKeys)}`;
}

export function childComment(child: string): string {
  return `${CHILD_PREFIX}${child}`;
}

/**
 * Reads what every Task and Map state of a compiled machine does, nested branches and Map
 * iterations included (state names are unique machine-wide). Runtimes use this, never state names.
 * ResolveToken and merge states are attributed to the processor their chain leads to, or inside a
 * Map iteration to the Map's processors.
 */
export function readMarkers(definition: AslStateMachine | AslGraph): Map<string, StateMarker> {
  const out = new Map<string, StateMarker>();
  visit(definition, undefined, out);
  return out;
}

function visit(graph: AslGraph, mapIds: string[] | undefined, out: Map<string, StateMarker>): void {
  for (const [name, state] of Object.entries(graph.States)) {
    if (state.Type === "Parallel") for (const branch of state.Branches) visit(branch, mapIds, out);
    if (state.Type === "Map") {
      const ids = state.Comment?.startsWith(MAP_PREFIX) ? parseIds(state.Comment.slice(MAP_PREFIX.length)) : undefined;
      if (ids) out.set(name, { kind: "map", processorIds: ids });
      const units = state.Comment?.startsWith(EXACT_PREFIX) ? parseIds(state.Comment.slice(EXACT_PREFIX.length)) : undefined;
      if (units) out.set(name, { kind: "exact", processorIds: [], units });
      visit(state.ItemProcessor, ids ?? mapIds, out);
    }
    if (state.Type !== "Task") continue;
    const marker = taskMarker(graph, name, state, mapIds);
    if (marker) out.set(name, marker);
  }
}

function taskMarker(graph: AslGraph, name: string, state: AslTaskState, mapIds: string[] | undefined): StateMarker | undefined {
  const comment = state.Comment ?? "";
  if (comment.startsWith(PROCESSOR_PREFIX)) return { kind: "processor", processorIds: [comment.slice(PROCESSOR_PREFIX.length)] };
  if (comment.startsWith(CHILD_PREFIX)) return { kind: "child", processorIds: [], child: comment.slice(CHILD_PREFIX.length) };
  if (state.Resource === RESOURCE.getSecretValue) return { kind: "resolve-token", processorIds: servedBy(graph, name, mapIds) };
  if (state.Resource === RESOURCE.lambdaInvokeWaitForToken) {
    const payload = (state.Parameters?.Payload ?? {}) as Record<string, unknown>;
    if (payload.action === "join-wait" && typeof payload.unit === "string" && isStringArray(payload.after))
      return { kind: "join-wait", processorIds: servedBy(graph, name, undefined), unit: payload.unit, after: payload.after };
  }
  if (state.Resource === RESOURCE.lambdaInvoke) {
    const payload = (state.Parameters?.Payload ?? {}) as Record<string, unknown>;
    switch (payload.action) {
      case "join-release":
        return { kind: "join-release", processorIds: [], ...(isStringArray(payload.done) && payload.done.length === 1 ? { unit: payload.done[0] } : {}) };
      case "join-abort":
        return { kind: "join-abort", processorIds: [] };
      case "merge":
        return { kind: "merge", processorIds: typeof payload.processorId === "string" ? [payload.processorId] : servedBy(graph, name, mapIds) };
      case "download":
        return { kind: "download", processorIds: [] };
      case "upload":
        return { kind: "upload", processorIds: [] };
      case "cleanup":
        return { kind: "cleanup", processorIds: [] };
      case "finalize":
        return { kind: "finalize", processorIds: [] };
      // The tokens function: refresh before a Lambda processor's ResolveToken, or an ECS processor's environment file.
      case "refresh":
      case "env-file":
        return { kind: "resolve-token", processorIds: servedBy(graph, name, mapIds) };
    }
  }
  if (mapIds && (state.Resource === RESOURCE.ecsRunTaskSync || state.Resource === RESOURCE.lambdaInvoke)) return { kind: "processor", processorIds: mapIds };
  return undefined;
}

/** Follows Next from a helper state to the processor it prepares. */
function servedBy(graph: AslGraph, name: string, mapIds: string[] | undefined): string[] {
  const seen = new Set<string>();
  let current: AslState | undefined = graph.States[name];
  while (current && "Next" in current && current.Next && !seen.has(current.Next)) {
    seen.add(current.Next);
    current = graph.States[current.Next];
    const comment = current && "Comment" in current ? current.Comment : undefined;
    if (comment?.startsWith(PROCESSOR_PREFIX)) return [comment.slice(PROCESSOR_PREFIX.length)];
  }
  return mapIds ?? [];
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function parseIds(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}
