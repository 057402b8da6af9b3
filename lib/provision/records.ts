import { z } from "zod";
import { DeploymentModeSchema } from "../model/mode";

/** Compute node ids name stacks, AWS resources and files: keep them to a safe, short alphabet. */
export const NODE_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,37}[a-z0-9])?$/;

export const NodeStatusSchema = z.enum(["creating", "ready", "updating", "destroying", "destroyed", "failed"]);
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

export const OperationKindSchema = z.enum(["create", "update", "destroy", "recover"]);
export const OperationStateSchema = z.enum(["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]);

export const OperationErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  holderId: z.string().optional(),
});

/** A stack change the service ran or is running, as persisted and as `GET /v1/operations/{id}` shows it. */
export const OperationRecordSchema = z.object({
  id: z.string(),
  nodeId: z.string(),
  kind: OperationKindSchema,
  state: OperationStateSchema,
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  cancelRequested: z.boolean().optional(),
  /** Set on a `recover` operation: the operation a restart interrupted. */
  recoversOperationId: z.string().optional(),
  summary: z
    .object({
      resourceChanges: z.record(z.string(), z.number()),
    })
    .optional(),
  error: OperationErrorSchema.optional(),
});
export type OperationRecord = z.infer<typeof OperationRecordSchema>;

/** A compute node as the service tracks it. Outputs never include secret values. */
export const NodeRecordSchema = z.object({
  id: z.string(),
  mode: DeploymentModeSchema,
  region: z.string(),
  options: z.record(z.string(), z.unknown()),
  status: NodeStatusSchema,
  outputs: z.record(z.string(), z.unknown()).optional(),
  /** Names of outputs withheld because the program marked them secret. */
  secretOutputs: z.array(z.string()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastOperationId: z.string().optional(),
});
export type NodeRecord = z.infer<typeof NodeRecordSchema>;

/** What an Idempotency-Key is bound to: the request it first came with and what that request produced. */
export const IdempotencyEntrySchema = z.object({
  key: z.string(),
  fingerprint: z.string(),
  /** The operation a node call started; absent for a key bound to an execution start. */
  operationId: z.string().optional(),
  /** The execution a `POST …/executions` started. */
  executionId: z.string().optional(),
  createdAt: z.string(),
});
export type IdempotencyEntry = z.infer<typeof IdempotencyEntrySchema>;

/** Which node an execution started through the service runs on, so `GET /v1/executions/{id}` can find it. */
export const ExecutionRefSchema = z.object({
  executionId: z.string(),
  nodeId: z.string(),
  workflowName: z.string(),
  createdAt: z.string(),
});
export type ExecutionRef = z.infer<typeof ExecutionRefSchema>;

/** A workflow definition registered on a node with `PUT /v1/nodes/{id}/workflows/{name}`. */
export const WorkflowDefinitionRecordSchema = z.object({
  nodeId: z.string(),
  name: z.string(),
  /** The workflow as given (its `name` is the definition's). */
  workflow: z.record(z.string(), z.unknown()),
  /** The registrations as given; absent means every processor defaults to ECS. */
  processors: z.array(z.record(z.string(), z.unknown())).optional(),
  /** sha256 of the workflow and registrations (canonical JSON): what `changed` compares locally. */
  contentHash: z.string(),
  /** sha256 of the compiled main and child definitions. */
  definitionHash: z.string().optional(),
  stateMachineArn: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WorkflowDefinitionRecord = z.infer<typeof WorkflowDefinitionRecordSchema>;
