import { z } from "zod";
import { ExecutionRecordSchema, ExecutionStatusSchema, ProcessorStatusSchema } from "../../lib/model/execution-record";
import { InvocationFileSchema, ProcessorsFileSchema, WorkflowFileSchema } from "../../lib/model/files";
import { NODE_ID_PATTERN, WorkflowDefinitionRecordSchema } from "../../lib/provision/records";
import { MAX_PAGE_LIMIT } from "../../lib/provision/execution-service";

export const WorkflowParamsSchema = z.object({
  id: z.string().regex(NODE_ID_PATTERN, "must be a compute node id"),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, "must be 1–80 letters, digits, '.', '_' or '-', starting with a letter or digit"),
});

/** The workflow file as the CLI reads it; `name`, when given, must equal the path's `{name}`. */
const WorkflowBodySchema = WorkflowFileSchema.partial({ name: true }).describe("The workflow file (as `compute-node validate` reads it); `name` may be left out, and must equal the path's {name} when given.");

export const StartExecutionBodySchema = z
  .object({
    workflow: WorkflowBodySchema.optional().describe("The workflow DAG; absent means the definition registered with PUT /v1/nodes/{id}/workflows/{name}."),
    processors: ProcessorsFileSchema.optional().describe("Processor registrations (the processors file, either form); absent means the registered definition's, else every processor defaults to ECS."),
    invocation: InvocationFileSchema.optional(),
    inputDir: z.string().min(1).optional().describe("Local runtime only: directory, inside the service's input root, copied in as the execution's input."),
  })
  .strict()
  .meta({ id: "StartExecutionRequest" });

export const ExecutionStartedSchema = z
  .object({ executionId: z.string(), nodeId: z.string(), workflowName: z.string() })
  .meta({ id: "ExecutionStarted" });

export const ExecutionSchema = ExecutionRecordSchema.meta({ id: "ExecutionRecord" });

export const ListExecutionsQuerySchema = z
  .object({
    status: z.string().optional().describe(`Only executions with this status (${ExecutionStatusSchema.options.join(", ")}).`),
    workflow: z.string().min(1).optional().describe("Only executions of this workflow."),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, "must be an integer")
      .optional()
      .describe(`Page size, 1–${MAX_PAGE_LIMIT}; default 50.`),
    cursor: z.string().min(1).max(1024).optional().describe("The `nextCursor` of the previous page, unchanged."),
  })
  .strict();

export const ExecutionPageSchema = z
  .object({ executions: z.array(ExecutionSchema), nextCursor: z.string().optional().describe("Absent on the last page.") })
  .meta({ id: "ExecutionPage" });

export const ExecutionEventSchema = z
  .object({
    sequence: z.number().int(),
    timestamp: z.string(),
    executionId: z.string(),
    type: z.enum(["execution-status", "processor-status"]),
    status: z.union([ExecutionStatusSchema, ProcessorStatusSchema]),
    processorId: z.string().optional(),
    exitCode: z.number().int().optional(),
    cause: z.string().optional(),
    error: z.object({ error: z.string(), cause: z.string().optional() }).optional(),
  })
  .meta({ id: "ExecutionEvent" });

export const ExecutionEventsQuerySchema = z.object({ lastEventId: z.string().optional().describe("Same as the Last-Event-ID header.") }).strict();

export const ProcessorParamsSchema = z.object({ id: z.string().min(1).max(128), pid: z.string().min(1).max(200) });

export const LogsQuerySchema = z
  .object({ follow: z.enum(["true", "false"]).default("false").describe("Keep the response open and stream lines until the processor ends.") })
  .strict();

export const PutWorkflowBodySchema = z
  .object({
    workflow: WorkflowBodySchema,
    processors: ProcessorsFileSchema.optional().describe("Processor registrations (the processors file, either form); absent means every processor defaults to ECS."),
  })
  .strict()
  .meta({ id: "PutWorkflowRequest" });

export const WorkflowDefinitionSchema = WorkflowDefinitionRecordSchema.meta({ id: "WorkflowDefinition" });

export const PutWorkflowResponseSchema = z
  .object({ definition: WorkflowDefinitionSchema, changed: z.boolean().describe("False when the definition and everything registered were already so (AWS: no mutating call).") })
  .meta({ id: "PutWorkflowResponse" });

export const WorkflowListSchema = z.object({ workflows: z.array(WorkflowDefinitionSchema) }).meta({ id: "WorkflowList" });
