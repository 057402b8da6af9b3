import { z } from "zod";
import { ComputeTypeSchema } from "./mode";

export const ProcessorConfigSchema = z
  .object({
    /** The workflow processor id this config applies to. */
    nodeId: z.string().min(1),
    /** Image tag to pin; `latest` or absent keeps the registered sourceUrl. */
    version: z.string().min(1).optional(),
    /** Runtime for this run; must be one of the processor's computeTypes. */
    executionTarget: ComputeTypeSchema.optional(),
  })
  .strict();

/** How a workflow is run: processor-guide "Running a Workflow". */
export const InvocationSchema = z.object({
  workflowInstanceConfiguration: z
    .object({
      workflowId: z.string().optional(),
      computeNodeId: z.string().optional(),
      processorConfigs: z.array(ProcessorConfigSchema).default([]),
    })
    .passthrough()
    .default({ processorConfigs: [] }),
  datasetId: z.string().optional(),
  packageIds: z.array(z.string()).default([]),
  params: z
    .object({
      /** Processor uuid → runtime; wins over processorConfigs and computeTypes order. */
      computeTypeOverrides: z.record(z.string(), ComputeTypeSchema).default({}),
    })
    .passthrough()
    .default({ computeTypeOverrides: {} }),
});

export type InvocationInput = z.input<typeof InvocationSchema>;
export type Invocation = z.output<typeof InvocationSchema>;
export type ProcessorConfig = z.output<typeof ProcessorConfigSchema>;
