import { z } from "zod";
import { ValidationError, ValidationIssue } from "../errors";
import { COMPUTE_NODE_ID_PATTERN, COMPUTE_NODE_ID_RULE, WORKFLOW_INSTANCE_ID_PATTERN, WORKFLOW_INSTANCE_ID_RULE } from "./id-patterns";

export { COMPUTE_NODE_ID_PATTERN, WORKFLOW_INSTANCE_ID_PATTERN } from "./id-patterns";

export const ComputeNodeIdSchema = z
  .string()
  .regex(COMPUTE_NODE_ID_PATTERN, { error: (issue) => `${JSON.stringify(issue.input)} is not a compute node id: use ${COMPUTE_NODE_ID_RULE}` })
  .describe(`Compute node id: ${COMPUTE_NODE_ID_RULE}.`);

export const WorkflowInstanceIdSchema = z
  .string()
  .regex(WORKFLOW_INSTANCE_ID_PATTERN, { error: (issue) => `${JSON.stringify(issue.input)} is not a workflow instance id: use ${WORKFLOW_INSTANCE_ID_RULE} (it names the Step Functions execution and its directories)` })
  .describe(`Workflow instance id: ${WORKFLOW_INSTANCE_ID_RULE}.`);

type IdPaths = { computeNodeId?: (string | number)[]; workflowInstanceId?: (string | number)[] };

/** The issues of the ids an execution carries (those present in `ids`), each at the path that names where it came from. */
export function executionIdIssues(ids: { computeNodeId?: unknown; workflowInstanceId?: unknown }, paths: IdPaths = {}): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const check = (schema: z.ZodType, value: unknown, path: (string | number)[]) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) issues.push(...parsed.error.issues.map((i) => ({ code: i.code, path, message: i.message })));
  };
  if ("computeNodeId" in ids) check(ComputeNodeIdSchema, ids.computeNodeId, paths.computeNodeId ?? ["computeNodeId"]);
  if ("workflowInstanceId" in ids) check(WorkflowInstanceIdSchema, ids.workflowInstanceId, paths.workflowInstanceId ?? ["workflowInstanceId"]);
  return issues;
}

/** Throws a ValidationError naming each id that breaks its pattern: the guard for ids that reach a runtime without passing through a schema. */
export function assertExecutionIds(ids: { computeNodeId?: unknown; workflowInstanceId?: unknown }, paths?: IdPaths): void {
  const issues = executionIdIssues(ids, paths);
  if (issues.length) throw new ValidationError(issues);
}
