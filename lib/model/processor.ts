import { z } from "zod";
import { ComputeTypeSchema } from "./mode";
import { CpuSchema } from "./cpu";

/** When a processor's own failure (non-zero exit) is retried; AWS transient errors are always retried. */
export const ProcessorRetrySchema = z
  .object({
    maxAttempts: z.number().int().min(0).max(10).default(0).describe("Extra attempts after the first."),
    intervalSeconds: z.number().int().min(1).max(3600).default(10).describe("Seconds before the first retry."),
    backoffRate: z.number().min(1).max(10).default(2).describe("Multiplier applied to the interval after each retry."),
  })
  .strict()
  .describe("Retry of the processor's own failures (non-zero exit); AWS transient errors are always retried.");

const processorRegistrationShape = {
  sourceUrl: z.string().min(1).describe("Container image reference; the key workflows resolve processors by."),
  uuid: z.string().min(1).optional().describe("Stable id used for status tracking and params.computeTypeOverrides. Default: derived from sourceUrl."),
  name: z.string().optional().describe("Human-readable name."),
  computeTypes: z.array(ComputeTypeSchema).min(1).default(["ecs"]).describe('Supported runtimes; the first is the default, an invocation may pick another. ["ecs"], ["lambda"] or both.'),
  cpu: CpuSchema.optional().describe(
    'CPU of the ECS Fargate task, in vCPU (0.25, 0.5, 1, 2, 4, 8, 16) or in ECS CPU units (256, 512, 1024, 2048, 4096, 8192, 16384; 1024 units = 1 vCPU), also as an ECS task definition writes it ("1024", "1 vCPU"). A number up to 16 is vCPU, a larger one CPU units. Default: 0.5 vCPU.',
  ),
  memory: z.number().int().positive().optional().describe("Memory in MiB: the ECS task's (a Fargate size for its cpu) or the Lambda function's (128–10240). Default: 1024 on ECS, 3008 on Lambda."),
  ephemeralStorage: z.number().int().positive().optional().describe("ECS ephemeral storage in GiB (20–200). Default: 20."),
  timeout: z.number().int().positive().optional().describe("Lambda timeout in seconds (at most 900). Default: 900."),
  gpu: z.number().int().min(0).optional().describe("GPUs per ECS task; needs a node with GPU capacity. Default: 0."),
  params: z.record(z.string(), z.unknown()).optional().describe("Parameter schema the processor accepts."),
  commandArguments: z.array(z.string()).optional().describe("Default command-line arguments (the ECS container command)."),
  localCommand: z.array(z.string().min(1)).min(1).optional().describe("argv the embedded local runner runs instead of the container, relative to the processors file's directory; never used on AWS."),
  retry: ProcessorRetrySchema.optional(),
};

/** A processor registration: the application record of processor-guide section 7. `cpu` comes out in vCPU whichever form was written. */
export const ProcessorRegistrationSchema = z.object(processorRegistrationShape).strict().describe("A processor registration: the application record a workflow's sourceUrl resolves to.");

export type ProcessorRegistrationInput = z.input<typeof ProcessorRegistrationSchema>;
export type ProcessorRegistration = z.output<typeof ProcessorRegistrationSchema>;
export type ProcessorRetry = z.output<typeof ProcessorRetrySchema>;

export const ProcessorRegistrationListSchema = z.array(ProcessorRegistrationSchema);
