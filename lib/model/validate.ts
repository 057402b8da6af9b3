import { z } from "zod";
import { ValidationError, ValidationIssue } from "../errors";
import { DeploymentMode, DeploymentModeSchema } from "./mode";
import { Invocation, InvocationInput } from "./invocation";
import { ProcessorRegistration, ProcessorRegistrationInput } from "./processor";
import { Workflow, WorkflowInput } from "./workflow";
import { InvocationFileSchema, ProcessorRegistrationsSchema, ProcessorsObjectFileSchema, WorkflowFileSchema } from "./files";
import { keyHintErrorMap } from "./suggest";

/**
 * Turns zod issues into ours, prefixing the path with where the document came from. A custom
 * issue that names its own `params.code` (e.g. `invalid_cpu`) keeps that code.
 */
export function zodIssues(error: z.ZodError, prefix: (string | number)[] = []): ValidationIssue[] {
  return error.issues.map((issue) => {
    const own = issue.code === "custom" ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
    return {
      code: typeof own === "string" ? own : issue.code,
      path: [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
      message: issue.message,
    };
  });
}

/** Parses with a schema, throwing a ValidationError that names every bad field; unknown keys get a "did you mean" hint. */
export function parseOrThrow<S extends z.ZodTypeAny>(schema: S, value: unknown, prefix: (string | number)[] = []): z.output<S> {
  const parsed = schema.safeParse(value, { error: keyHintErrorMap });
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, prefix), { cause: parsed.error });
  return parsed.data;
}

function withoutSchemaReference<T extends object>(value: T & { $schema?: unknown }): T {
  const { $schema: _, ...rest } = value;
  return rest as T;
}

/** A workflow file (paths under `workflow`); its `$schema` reference is dropped. */
export const parseWorkflow = (value: unknown): Workflow => withoutSchemaReference<Workflow>(parseOrThrow(WorkflowFileSchema, value, ["workflow"]));
/** An invocation file (paths under `invocation`); absent means the defaults. */
export const parseInvocation = (value: unknown): Invocation => withoutSchemaReference<Invocation>(parseOrThrow(InvocationFileSchema, value ?? {}, ["invocation"]));
/**
 * A processors file, the array or the `{"$schema", "processors"}` form. Paths start with
 * `processors` either way, so `processors[3].cpu` is the fourth registration of the file.
 */
export function parseProcessors(value: unknown): ProcessorRegistration[] {
  if (Array.isArray(value)) return parseOrThrow(ProcessorRegistrationsSchema, value, ["processors"]);
  if (typeof value !== "object" || value === null)
    throw new ValidationError([{ code: "invalid_type", path: ["processors"], message: `must be an array of processor registrations, or {"processors": [...]}; got ${value === null ? "null" : typeof value}` }]);
  // The object form's own "processors" key starts the paths; an issue of the object itself is about the whole file.
  try {
    return parseOrThrow(ProcessorsObjectFileSchema, value).processors;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(err.issues.map((issue) => (issue.path.length ? issue : { ...issue, path: ["processors"] })), { cause: err.cause });
  }
}
export const parseMode = (value: unknown): DeploymentMode => parseOrThrow(DeploymentModeSchema, value ?? "basic", ["mode"]);

export type { WorkflowInput, InvocationInput, ProcessorRegistrationInput };

/**
 * Structural problems of the DAG: duplicate ids, unknown or self dependencies, cycles.
 * Every problem is collected; a cycle is reported once, as the path that closes it.
 */
export function dagIssues(workflow: Workflow): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const firstIndex = new Map<string, number>();
  workflow.processors.forEach((p, i) => {
    if (firstIndex.has(p.id)) {
      issues.push({
        code: "duplicate_processor_id",
        path: ["workflow", "processors", i, "id"],
        processorId: p.id,
        message: `id "${p.id}" is already used by processors[${firstIndex.get(p.id)}]`,
      });
    } else firstIndex.set(p.id, i);
  });
  const known = [...firstIndex.keys()];
  const knownList = known.length > 8 ? `${known.slice(0, 8).join(", ")}, …` : known.join(", ");
  workflow.processors.forEach((p, i) => {
    p.dependsOn.forEach((dep, j) => {
      const path = ["workflow", "processors", i, "dependsOn", j];
      if (dep === p.id) issues.push({ code: "self_dependency", path, processorId: p.id, message: `dependsOn names the processor itself` });
      else if (!firstIndex.has(dep))
        issues.push({ code: "unknown_dependency", path, processorId: p.id, message: `dependsOn "${dep}" is not a processor in this workflow (known: ${knownList})` });
    });
  });
  const cycle = findCycle(workflow);
  if (cycle) {
    const i = firstIndex.get(cycle[0])!;
    issues.push({
      code: "cycle",
      path: ["workflow", "processors", i, "dependsOn"],
      processorId: cycle[0],
      message: `dependency cycle: ${cycle.join(" → ")}`,
    });
  }
  return issues;
}

/** A cycle as a closed path of ids (first id repeated at the end), or undefined. Iterative: DAGs reach thousands of nodes. */
export function findCycle(workflow: Workflow): string[] | undefined {
  const deps = new Map<string, string[]>();
  for (const p of workflow.processors) if (!deps.has(p.id)) deps.set(p.id, p.dependsOn.filter((d) => d !== p.id));
  const state = new Map<string, 1 | 2>();
  for (const start of deps.keys()) {
    if (state.has(start)) continue;
    const stack: { id: string; next: number }[] = [{ id: start, next: 0 }];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const edges = deps.get(top.id) ?? [];
      if (top.next >= edges.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const dep = edges[top.next++];
      if (!deps.has(dep)) continue;
      const s = state.get(dep);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === dep);
        // dependsOn edges point upstream; reverse so the cycle reads in execution order.
        return [...stack.slice(from).map((f) => f.id), dep].reverse();
      }
      if (s === undefined) {
        state.set(dep, 1);
        stack.push({ id: dep, next: 0 });
      }
    }
  }
  return undefined;
}
