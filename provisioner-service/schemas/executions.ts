import { z } from "zod";
import { ExecutionRecordSchema } from "../../lib/model/execution-record";
import { InvocationSchema } from "../../lib/model/invocation";
import { ProcessorRegistrationListSchema } from "../../lib/model/processor";
import { WorkflowSchema } from "../../lib/model/workflow";
import { NODE_ID_PATTERN } from "../../lib/provision/records";

export const WorkflowParamsSchema = z.object({
  id: z.string().regex(NODE_ID_PATTERN, "must be a compute node id"),
  name: z.string().min(1).max(80),
});

export const StartExecutionBodySchema = z
  .object({
    workflow: WorkflowSchema.omit({ name: true }).describe("The workflow DAG; its name is the {name} of the path."),
    processors: ProcessorRegistrationListSchema.optional().describe("Processor registrations; absent means every processor defaults to ECS."),
    invocation: InvocationSchema.optional(),
    inputDir: z.string().min(1).optional().describe("Local runtime only: directory, inside the service's input root, copied in as the execution's input."),
  })
  .strict()
  .meta({ id: "StartExecutionRequest" });

export const ExecutionStartedSchema = z
  .object({ executionId: z.string(), nodeId: z.string(), workflowName: z.string() })
  .meta({ id: "ExecutionStarted" });

export const ExecutionSchema = ExecutionRecordSchema.meta({ id: "ExecutionRecord" });
