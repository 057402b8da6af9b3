import { z } from "zod";
import { ValidationError, ValidationIssue } from "../errors";

/**
 * A compute node id: 1–39 lowercase letters, digits or '-', starting with a letter or digit. It
 * becomes an EFS directory (`/mnt/efs/{computeNodeId}/…`), S3 prefixes and secret names, and the
 * node's own resource names (`cn-{id}-data-transfer` must fit Lambda's 64 characters, bucket names
 * must be lowercase), so nothing that could climb a path or break a name gets in.
 */
export const COMPUTE_NODE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}$/;

/**
 * A workflow instance id: 1–80 letters, digits, '-' or '_', starting with a letter or digit. It
 * names the Step Functions execution (at most 80 characters of that alphabet), the execution's
 * EFS directories and its token secret; the runtimes generate `wi-<UTC time>-<random hex>`, and
 * platform UUIDs fit as well.
 */
export const WORKFLOW_INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;

const COMPUTE_NODE_ID_RULE = "1–39 lowercase letters, digits or '-', starting with a letter or digit";
const WORKFLOW_INSTANCE_ID_RULE = "1–80 letters, digits, '-' or '_', starting with a letter or digit";

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
