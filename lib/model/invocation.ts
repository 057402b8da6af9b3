import { z } from "zod";
import { ComputeTypeSchema } from "./mode";
import { ComputeNodeIdSchema } from "./ids";
import { refuseNearMissKeys } from "./suggest";

export const ProcessorConfigSchema = z
  .object({
    nodeId: z.string().min(1).describe("The workflow processor id this config applies to."),
    version: z.string().min(1).optional().describe('Image tag (or sha256: digest) to pin; "latest" or absent keeps the registered sourceUrl.'),
    executionTarget: ComputeTypeSchema.optional().describe("Runtime for this run; must be one of the processor's computeTypes."),
  })
  .strict()
  .describe("Per-processor settings of one run.");

const configurationShape = {
  workflowId: z.string().optional().describe("Id of the workflow on the platform."),
  computeNodeId: ComputeNodeIdSchema.optional().describe("The compute node to run on; when given it must be the node the workflow is deployed to. 1–39 lowercase letters, digits or '-', starting with a letter or digit."),
  processorConfigs: z.array(ProcessorConfigSchema).default([]).describe("Per-processor version pins and runtimes."),
};

const paramsShape = {
  computeTypeOverrides: z.record(z.string(), ComputeTypeSchema).default({}).describe("Processor uuid → runtime; wins over processorConfigs and the computeTypes order."),
};

// Unknown keys pass (the platform sends fields this library does not read), but near misses of known ones are refused: they are typos whose values would be ignored.
export const invocationShape = {
  workflowInstanceConfiguration: z
    .object(configurationShape)
    .passthrough()
    .superRefine(refuseNearMissKeys(Object.keys(configurationShape)))
    .default({ processorConfigs: [] })
    .describe("Which workflow runs where, with per-processor settings."),
  datasetId: z.string().optional().describe("Pennsieve dataset the input files come from."),
  packageIds: z.array(z.string()).default([]).describe("Pennsieve packages to process."),
  params: z
    .object(paramsShape)
    .passthrough()
    .superRefine(refuseNearMissKeys(Object.keys(paramsShape)))
    .default({ computeTypeOverrides: {} })
    .describe("Run parameters."),
};

/** How a workflow is run: processor-guide "Running a Workflow". */
export const InvocationSchema = z
  .object(invocationShape)
  .passthrough()
  .superRefine(refuseNearMissKeys([...Object.keys(invocationShape), "$schema"]))
  .describe("A compute-node workflow invocation: what to process, on which node, with which per-processor settings.");

export type InvocationInput = z.input<typeof InvocationSchema>;
export type Invocation = z.output<typeof InvocationSchema>;
export type ProcessorConfig = z.output<typeof ProcessorConfigSchema>;
