import { AslGraph, AslState, AslStateMachine } from "./asl/types";
import { readMarkers, StateMarker } from "./markers";

export interface MachineSet {
  definition: AslStateMachine;
  children: Record<string, AslStateMachine>;
}

export interface AnalyzeOptions {
  /** Seconds per processor id; missing ids take 0. */
  durations?: Record<string, number>;
  /** Also collect, for every processor, the processors certain to have finished when it starts (O(n²) memory: tests only). */
  precedence?: boolean;
}

export interface MachineAnalysis {
  /** How many times the success path runs each processor. */
  runs: Map<string, number>;
  start: Map<string, number>;
  finish: Map<string, number>;
  /** Finish of the last processor, under unlimited parallelism: Parallel = slowest branch, Map = slowest iteration, sequence = sum, child = its machine, an exact join = the latest finish of the processors it waits for. */
  makespan: number;
  /** With `precedence`: processor → processors that always finish before it starts. */
  before: Map<string, Set<string>>;
}

/**
 * Walks a compiled machine's success path (following Choice defaults, every Parallel branch, every
 * Map item and every child machine) and times it. Reads only what the contract fixes: markers,
 * Resources and the structure, never state names' text. Used by tests (precedence, exactly-once)
 * and the benchmark (makespan from the ASL itself).
 */
export function analyzeMachines(machines: MachineSet, options: AnalyzeOptions = {}): MachineAnalysis {
  const durations = options.durations ?? {};
  const result: MachineAnalysis = { runs: new Map(), start: new Map(), finish: new Map(), makespan: 0, before: new Map() };
  const markersOf = new Map<AslGraph, Map<string, StateMarker>>();
  const markers = (machine: AslStateMachine) => {
    let m = markersOf.get(machine);
    if (!m) markersOf.set(machine, (m = readMarkers(machine)));
    return m;
  };
  const track = options.precedence === true;
  // Exact Map iterations by unit key: when each ended, and what had certainly finished by then.
  const unitEnd = new Map<string, { t: number; before: Set<string> }>();

  const walk = (graph: AslGraph, machineMarkers: Map<string, StateMarker>, t0: number, before0: Set<string>, item: string | undefined, depth: number, unit?: string): { t: number; before: Set<string> } => {
    if (depth > 10_000) throw new Error("machine nesting too deep");
    let t = t0;
    let before = before0;
    let name: string | undefined = graph.StartAt;
    const visited = new Set<string>();
    while (name !== undefined) {
      if (visited.has(name)) throw new Error(`state "${name}" is reached twice on the success path (a loop)`);
      visited.add(name);
      const state: AslState | undefined = graph.States[name];
      if (!state) throw new Error(`Next names "${name}", which is not a state of this scope`);
      let next: string | undefined;
      switch (state.Type) {
        case "Task": {
          const marker = machineMarkers.get(name);
          if (marker?.kind === "processor") {
            const id = item ?? marker.processorIds[0];
            result.runs.set(id, (result.runs.get(id) ?? 0) + 1);
            result.start.set(id, t);
            if (track) result.before.set(id, new Set(before));
            t += durations[id] ?? 0;
            result.finish.set(id, t);
            result.makespan = Math.max(result.makespan, t);
            if (track) before = new Set([...before, id]);
          } else if (marker?.kind === "join-wait") {
            // Items are walked in order, and exact parts list units topologically: a dependency not
            // yet finished here is one the Map could wait on forever.
            for (const dep of marker.after ?? []) {
              const done = unitEnd.get(dep);
              if (done === undefined) throw new Error(`state "${name}" waits for unit "${dep}", which has not run before it: the exact Map could deadlock`);
              t = Math.max(t, done.t);
              if (track) before = union(before, [done.before]);
            }
          } else if (marker?.kind === "child") {
            const child = machines.children[marker.child!];
            if (!child) throw new Error(`state "${name}" starts child "${marker.child}", which was not compiled`);
            ({ t, before } = walk(child, markers(child), t, before, undefined, depth + 1));
          }
          next = state.Next;
          break;
        }
        case "Parallel": {
          const ends = state.Branches.map((b) => walk(b, machineMarkers, t, before, item, depth + 1));
          t = ends.reduce((max, e) => Math.max(max, e.t), t);
          if (track) before = union(before, ends.map((e) => e.before));
          next = state.Next;
          break;
        }
        case "Map": {
          const marker = machineMarkers.get(name);
          const ends =
            marker?.kind === "exact"
              ? (marker.units ?? []).map((key) => {
                  const end = walk(state.ItemProcessor, machineMarkers, t, before, item, depth + 1, key);
                  unitEnd.set(key, end);
                  return end;
                })
              : (marker?.processorIds ?? []).map((id) => walk(state.ItemProcessor, machineMarkers, t, before, id, depth + 1));
          t = ends.reduce((max, e) => Math.max(max, e.t), t);
          if (track) before = union(before, ends.map((e) => e.before));
          next = state.Next;
          break;
        }
        case "Choice":
          // An exact iteration selects its unit by `$.u`; every other Choice's success path is its Default.
          next = (unit !== undefined ? state.Choices.find((c) => "Variable" in c && c.Variable === "$.u" && c.StringEquals === unit)?.Next : undefined) ?? state.Default;
          break;
        case "Pass":
          next = state.Next;
          break;
        case "Succeed":
        case "Fail":
          next = undefined;
          break;
      }
      name = next;
    }
    return { t, before };
  };
  walk(machines.definition, markers(machines.definition), 0, new Set(), undefined, 0);
  return result;
}

function union(base: Set<string>, parts: Set<string>[]): Set<string> {
  const out = new Set(base);
  for (const p of parts) for (const id of p) out.add(id);
  return out;
}
