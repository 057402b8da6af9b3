import { z } from "zod";
import { ComputeTypeSchema } from "./mode";
import { ComputeNodeIdSchema } from "./ids";
import { refuseNearMissKeys } from "./suggest";
import { hasBadKeySegment, isS3BucketName, isS3Destination, S3_BUCKET_RULE, splitS3Uri, URL_SCHEME } from "./destination-patterns";

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

/** Placeholders a destination may hold, filled in when the execution starts. */
export const OUTPUT_DESTINATION_PLACEHOLDERS = ["workflowInstanceId"] as const;

/**
 * Where the sink processors' outputs go after the DAG succeeds: `s3://bucket/prefix/` (AWS, or a
 * local run given an S3 client) or a directory (local runs). `{workflowInstanceId}` is replaced by
 * the run's id, so one invocation can serve many runs without their results mixing.
 */
export const OutputDestinationSchema = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = outputDestinationProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe("Where every sink processor's OUTPUT_DIR is uploaded after the DAG succeeds, as <destination>/<processorId>/…: s3://bucket/prefix/ or a directory path (local runs). {workflowInstanceId} is replaced by the run's id.");

function outputDestinationProblem(value: string): string | undefined {
  for (const match of value.matchAll(/\{([^}]*)\}/g))
    if (!(OUTPUT_DESTINATION_PLACEHOLDERS as readonly string[]).includes(match[1])) return `unknown placeholder {${match[1]}} (the only one is {workflowInstanceId})`;
  const scheme = URL_SCHEME.exec(value)?.[1];
  if (scheme === undefined) return value.includes("\0") ? "a path may not contain NUL" : undefined;
  if (scheme === "file") return value.startsWith("file:///") ? undefined : "a file:// destination must be an absolute file:///path";
  if (scheme !== "s3") return `${scheme}:// destinations are not supported: use s3://bucket/prefix/ or a directory path`;
  const { bucket, key } = splitS3Uri(value);
  if (!isS3BucketName(bucket)) return `"${bucket}" is not an S3 bucket name (${S3_BUCKET_RULE})`;
  if (hasBadKeySegment(key)) return `the key prefix "${key}" has an empty, '.' or '..' segment`;
  return undefined;
}

/** The destination for one run: placeholders filled in. */
export function resolveOutputDestination(destination: string, ids: { workflowInstanceId: string }): string {
  return destination.replaceAll("{workflowInstanceId}", ids.workflowInstanceId);
}

export { isS3Destination };

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
  outputs: OutputDestinationSchema.optional(),
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
