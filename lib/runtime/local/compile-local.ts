import { CompileOptions, compileWorkflow } from "../../compile/compile";
import { ResolvedPlan } from "../../plan/resolve";
import { AslMachine } from "./asl";

/** A compiled workflow as the local runner consumes it: the main machine plus child machines by name. */
export interface CompiledBundle {
  /** Names the machine in local ARNs. */
  name: string;
  definition: AslMachine;
  children: Map<string, AslMachine>;
}

export interface LocalTarget {
  efsMountPath: string;
  computeNodeId: string;
  /** The run refreshes tokens (LocalRunOptions.refreshTokens): Lambda processors get a refresh step before ResolveToken. @default false */
  refreshTokens?: boolean;
}

export type LocalCompiler = (plan: ResolvedPlan, target: LocalTarget) => CompiledBundle;

type ChildrenShape = Record<string, unknown> | { name?: string; id?: string; definition: unknown }[] | Map<string, unknown>;

/** Normalises whatever `children` shape the compiler returns into a name → definition map. */
export function toBundle(name: string, compiled: { definition: unknown; children?: ChildrenShape }): CompiledBundle {
  const children = new Map<string, AslMachine>();
  const raw = compiled.children;
  if (raw instanceof Map) for (const [k, v] of raw) children.set(k, definitionOf(v));
  else if (Array.isArray(raw)) for (const c of raw) children.set(String(c.name ?? c.id), definitionOf(c));
  else if (raw) for (const [k, v] of Object.entries(raw)) children.set(k, definitionOf(v));
  return { name, definition: compiled.definition as AslMachine, children };
}

function definitionOf(value: unknown): AslMachine {
  const v = value as { definition?: unknown; States?: unknown };
  return (v && typeof v === "object" && "States" in v ? v : v.definition) as AslMachine;
}

/** Compiles with lib/compile for the local EFS stand-in, with the given options (structure, hints…). */
export function localCompiler(options: Omit<CompileOptions, "target"> = {}): LocalCompiler {
  return (plan, target) => {
    const compiled = compileWorkflow(plan, { ...options, target: { ...target, dataTransferFunctionArn: LOCAL_DATA_TRANSFER_ARN, finalizeFunctionArn: LOCAL_FINALIZE_ARN } });
    return toBundle(plan.workflow.name.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60) || "workflow", compiled);
  };
}

export const compileForLocal: LocalCompiler = localCompiler();

export const LOCAL_DATA_TRANSFER_ARN = "arn:aws:lambda:local:000000000000:function:compute-node-data-transfer";
export const LOCAL_FINALIZE_ARN = "arn:aws:lambda:local:000000000000:function:compute-node-finalize";
