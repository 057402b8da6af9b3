import { ValidationError, ValidationIssue } from "../errors";
import { ResolvedPlan, resolvePlan } from "../plan/resolve";
import { readJsonFile } from "../json-file";
import { dirname, resolve } from "node:path";
import { URL_SCHEME } from "../model/destination-patterns";

export { readJsonFile };

export interface PlanFileOptions {
  processors?: string;
  invocation?: string;
  mode?: string;
  /** `--outputs DEST`: replaces the invocation's `outputs`; a directory is relative to the current directory. */
  outputs?: string;
}

/**
 * The `WORKFLOW [--processors F] [--invocation F] [--mode M]` inputs every workflow command shares.
 * Each issue names the file its path is inside (`processors[3].cpu` is in the --processors file),
 * in the human output and in `--json`.
 */
export function loadPlan(workflowPath: string, options: PlanFileOptions, cwd: string): ResolvedPlan {
  const files: Record<string, string | undefined> = { workflow: workflowPath, processors: options.processors, invocation: options.invocation };
  try {
    return resolvePlan(readJsonFile(workflowPath, "WORKFLOW", cwd), {
      processors: options.processors ? readJsonFile(options.processors, "--processors", cwd) : undefined,
      invocation: withOutputs(options.invocation ? readJsonFile(options.invocation, "--invocation", cwd) : undefined, options, cwd),
      mode: options.mode,
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const withFile = (issue: ValidationIssue): ValidationIssue => {
      const file = typeof issue.path[0] === "string" ? files[issue.path[0]] : undefined;
      return file && !issue.file ? { ...issue, file } : issue;
    };
    throw new ValidationError(err.issues.map(withFile), { cause: err.cause ?? err });
  }
}

/**
 * The invocation with `outputs` as the run should use it: `--outputs` wins over the file's, and a
 * directory (not an s3:// or file:// URL) is made absolute, relative to the current directory for
 * `--outputs` and to the invocation file's directory for the file's own, as localCommand paths are.
 */
function withOutputs(invocation: unknown, options: PlanFileOptions, cwd: string): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const absolute = (dest: string, base: string) => (URL_SCHEME.test(dest) ? dest : resolve(base, dest));
  if (options.outputs !== undefined) return { ...(isObject(invocation) ? invocation : {}), outputs: absolute(options.outputs, cwd) };
  if (isObject(invocation) && typeof invocation.outputs === "string" && invocation.outputs !== "" && options.invocation)
    return { ...invocation, outputs: absolute(invocation.outputs, dirname(resolve(cwd, options.invocation))) };
  return invocation;
}
