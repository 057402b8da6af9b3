import type { AslChoiceRule, AslGraph, AslJson, AslState, AslStateMachine } from "../compile/asl/types";
import { MarkerKind, readMarkers } from "../compile/markers";
import { RESOURCE } from "../compile/asl/resources";
import type { CompiledWorkflow } from "../compile/compile";
import type { ResolvedPlan } from "../plan/resolve";
import { CostReport, ExecutionUsage, MissingCost, NodeFunctionKind, RunUsage, buildCostReport } from "./report";
import { PriceTable } from "./price-table";
import { processorUsages } from "./usage";

/** What a Task does, by its marker; `tokens` is a token state served by the node's tokens function rather than Secrets Manager itself. */
export type TaskKind = MarkerKind | "tokens";

/** What one successful execution of a compiled workflow does, read from its machines. */
export interface MachineWalk {
  /** States entered, child machines and Map iterations included: Step Functions bills one transition each. */
  stateTransitions: number;
  /** Tasks run, by what they do. */
  invocations: Partial<Record<TaskKind, number>>;
}

/**
 * Walks the success path of a compiled machine the way Step Functions runs it: each state once, each
 * Parallel branch, each Map iteration (items from the Pass that lays them out; in exact mode each
 * iteration takes the Choice rule of its own unit), each child machine a Task starts. A Choice goes
 * where a run without errors goes. Pure; counts what the local runner and AWS count for a run.
 */
export function walkMachine(definition: AslStateMachine, children: Record<string, AslStateMachine> = {}): MachineWalk {
  const walk: MachineWalk = { stateTransitions: 0, invocations: {} };
  const visit = (graph: AslGraph, item: AslJson | undefined, depth: number) => {
    if (depth > 8) return;
    const markers = readMarkers(graph);
    const data = new Map<string, AslJson>();
    let name: string | undefined = graph.StartAt;
    for (let steps = 0; name !== undefined && steps < 100_000; steps++) {
      const state: AslState | undefined = graph.States[name];
      if (!state) return;
      walk.stateTransitions++;
      const marker = markers.get(name);
      if (marker && state.Type === "Task") {
        const kind: TaskKind = marker.kind === "resolve-token" && state.Resource !== RESOURCE.getSecretValue ? "tokens" : marker.kind;
        walk.invocations[kind] = (walk.invocations[kind] ?? 0) + 1;
      }
      switch (state.Type) {
        case "Task":
          if (marker?.kind === "child" && marker.child && children[marker.child]) visit(children[marker.child], undefined, depth + 1);
          break;
        case "Pass":
          if (state.Result !== undefined && state.ResultPath) data.set(state.ResultPath, state.Result);
          break;
        case "Parallel":
          for (const branch of state.Branches) visit(branch, item, depth + 1);
          break;
        case "Map": {
          const items = data.get(state.ItemsPath);
          for (const each of Array.isArray(items) ? items : []) visit(state.ItemProcessor, each, depth + 1);
          break;
        }
        case "Choice":
          name = state.Choices.find((rule) => ruleHolds(rule, item))?.Next ?? state.Default;
          continue;
        case "Succeed":
        case "Fail":
          return;
      }
      name = "End" in state && state.End ? undefined : state.Next;
    }
  };
  visit(definition, undefined, 0);
  return walk;
}

// The compiled machines' Choice rules: `$.u` names a Map iteration's unit (exact mode), `$.inputs`
// is present when the execution has inputs, `$.error` only after a failure. `$.outputs` is taken
// as absent: how long an upload takes depends on bytes no estimate knows (docs/cost.md).
function ruleHolds(rule: AslChoiceRule, item: AslJson | undefined): boolean {
  if ("And" in rule) return rule.And.every((condition) => ruleHolds({ ...condition, Next: "" }, item));
  if (rule.Variable === "$.outputs") return false;
  if (rule.StringEquals !== undefined) return rule.Variable === "$.u" && item === rule.StringEquals;
  if (rule.IsPresent !== undefined) return /^\$\.err(or)?\b/.test(rule.Variable) ? !rule.IsPresent : rule.IsPresent;
  return false;
}

/**
 * Seconds one invocation of the node's Lambdas is assumed to take in an estimate (docs/cost.md):
 * no hint says how long a download of unknown inputs takes, and they cost little next to processors.
 */
export const ESTIMATED_FUNCTION_SECONDS: Readonly<Partial<Record<TaskKind, number>>> = { download: 5, merge: 0.5, cleanup: 2, finalize: 5, "join-release": 0.3, "join-abort": 0.3, tokens: 0.3 };

const FUNCTION_OF: Partial<Record<TaskKind, NodeFunctionKind>> = { download: "data-transfer", merge: "data-transfer", cleanup: "data-transfer", finalize: "finalize", "join-wait": "join", "join-release": "join", "join-abort": "join", tokens: "tokens" };

export interface EstimateExecutionInput {
  plan: ResolvedPlan;
  compiled: CompiledWorkflow;
  /** Expected seconds per processor id (runtime hints, or the median of earlier records). */
  hints: Readonly<Record<string, number>>;
  prices: PriceTable;
  /** ISO time of the estimate. */
  generatedAt: string;
  computeNodeId?: string;
  /** Seconds per node-Lambda invocation. @default ESTIMATED_FUNCTION_SECONDS */
  functionSeconds?: Partial<Record<TaskKind, number>>;
}

/**
 * The cost report of one successful execution whose processors each run as long as their hint,
 * once, with the transitions and node-Lambda calls its compiled machines make. Processors without a
 * hint, log volume and the network path are `missing`: an estimate does not invent them.
 */
export function estimateExecutionCost(input: EstimateExecutionInput): CostReport {
  const { plan, compiled, hints } = input;
  const walk = walkMachine(compiled.definition, compiled.children);
  const seconds = { ...ESTIMATED_FUNCTION_SECONDS, ...input.functionSeconds };
  const functions: Record<NodeFunctionKind, (number | null)[]> = { "data-transfer": [], finalize: [], join: [], tokens: [] };
  for (const [kind, count] of Object.entries(walk.invocations) as [TaskKind, number][]) {
    const fn = FUNCTION_OF[kind];
    if (!fn) continue;
    // A join-wait lasts as long as its unit waits: the same unknown the finalizers report.
    for (let i = 0; i < count; i++) functions[fn].push(kind === "join-wait" ? null : (seconds[kind] ?? 0));
  }
  const missing: MissingCost[] = [];
  const runs = new Map<string, RunUsage[]>();
  for (const p of plan.processors) {
    const hint = hints[p.id];
    if (hint === undefined || !Number.isFinite(hint) || hint < 0) missing.push({ item: `processor "${p.id}"`, category: p.computeType === "lambda" ? "lambda" : "ecs", reason: "no runtime hint for it: pass --hints or --records with its runs" });
    else runs.set(p.id, [{ seconds: hint, finished: true }]);
  }
  const envelopeSeconds = (walk.invocations.download ? (seconds.download ?? 0) : 0) + (seconds.cleanup ?? 0) + (seconds.finalize ?? 0);
  const usage: ExecutionUsage = {
    source: "estimate",
    computeNodeId: input.computeNodeId ?? plan.computeNodeId ?? "estimate",
    workflowName: plan.workflow.name,
    mode: plan.mode,
    generatedAt: input.generatedAt,
    processors: processorUsages(plan.processors, runs, new Map(plan.processors.map((p) => [p.id, runs.has(p.id) ? "SUCCEEDED" : "UNKNOWN"]))),
    stateTransitions: walk.stateTransitions,
    functions,
    // CreateSecret, one read per token state (ResolveToken or a tokens-function call), DeleteSecret.
    secretApiCalls: 1 + (walk.invocations["resolve-token"] ?? 0) + (walk.invocations.tokens ?? 0) + 1,
    secretSeconds: compiled.stats.makespan + envelopeSeconds,
    missing: [...missing, { item: "CloudWatch Logs ingestion", category: "logs", reason: `an estimate cannot know how much the processors log; it costs $${input.prices.prices["logs.ingestionGb"].usd} per GB` }],
    // Without a hint for every processor the compiler's makespan is in assumed units, not seconds.
    ...(missing.length === 0 ? { makespanSeconds: compiled.stats.makespan } : {}),
  };
  return buildCostReport(usage, input.prices);
}
