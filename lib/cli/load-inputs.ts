import { ValidationError, ValidationIssue } from "../errors";
import { ResolvedPlan, resolvePlan } from "../plan/resolve";
import { readJsonFile } from "../json-file";

export { readJsonFile };

export interface PlanFileOptions {
  processors?: string;
  invocation?: string;
  mode?: string;
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
      invocation: options.invocation ? readJsonFile(options.invocation, "--invocation", cwd) : undefined,
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
