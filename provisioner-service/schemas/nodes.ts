import { z } from "zod";
import { DeploymentModeSchema } from "../../lib/model/mode";
import { NODE_ID_PATTERN, NodeRecordSchema, OperationRecordSchema } from "../../lib/provision/records";

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

export const NodeOptionsSchema = z
  .record(z.string(), z.unknown())
  .describe("Options of the compute node program (vpc, capacity, log retention…); checked against the node config schema.");

export const CreateNodeBodySchema = z
  .object({
    id: z.string().regex(NODE_ID_PATTERN, "must be 1–39 characters of lowercase letters, digits and '-', starting and ending with a letter or digit").describe("Compute node id; names the stack and the node's AWS resources."),
    mode: DeploymentModeSchema.default("basic"),
    region: z.string().regex(AWS_REGION, "must be an AWS region such as us-east-1"),
    options: NodeOptionsSchema.default({}),
  })
  .strict()
  .meta({ id: "CreateNodeRequest" });

export const UpdateNodeBodySchema = z
  .object({
    mode: DeploymentModeSchema.optional(),
    options: NodeOptionsSchema.optional(),
  })
  .strict()
  .refine((body) => body.mode !== undefined || body.options !== undefined, { message: "give at least one of mode, options" })
  .meta({ id: "UpdateNodeRequest", description: "Fields given replace the stored ones. The region cannot change: destroy and create the node again.", minProperties: 1 });

export const NodeSchema = NodeRecordSchema.meta({ id: "Node" });
export const OperationSchema = OperationRecordSchema.meta({ id: "Operation" });

/** `GET /v1/nodes/{id}`: the node with its last operation inline. */
export const NodeDetailSchema = NodeRecordSchema.extend({ lastOperation: OperationRecordSchema.optional() }).meta({ id: "NodeDetail" });

export const NodeListSchema = z.object({ nodes: z.array(NodeSchema) }).meta({ id: "NodeList" });

/** What a mutating node call answers: the accepted operation and the node's recorded intent. */
export const NodeOperationResponseSchema = z.object({ operation: OperationSchema, node: NodeSchema }).meta({ id: "NodeOperation" });

export const DestroyQuerySchema = z
  .object({
    force: z.enum(["true", "false"]).default("false").describe("Destroy even while an execution runs: the per-node cleanup stops it first."),
  })
  .strict();

/** `POST /v1/nodes/{id}/preview`: the change to plan, as for PATCH; absent plans the stored spec (drift). */
export const PreviewNodeBodySchema = z
  .object({
    mode: DeploymentModeSchema.optional(),
    options: NodeOptionsSchema.optional(),
  })
  .strict()
  .optional()
  .meta({ id: "PreviewNodeRequest", description: "The fields a PATCH would give; absent fields keep the stored ones." });

export const PreviewStepSchema = z.object({
  urn: z.string(),
  resourceType: z.string(),
  op: z.string().describe("create, update, replace, delete, same…"),
  diffs: z.array(z.string()).optional().describe("Names of the properties that change (never their values)."),
});

export const NodePreviewSchema = z
  .object({
    nodeId: z.string(),
    mode: DeploymentModeSchema,
    resourceChanges: z.record(z.string(), z.number()).describe("Planned changes per operation type."),
    steps: z.array(PreviewStepSchema).optional().describe("Per-resource steps, where the engine reports them."),
  })
  .meta({ id: "NodePreview" });
