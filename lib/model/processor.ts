import { z } from "zod";
import { ComputeTypeSchema } from "./mode";

/** When a processor's own failure (non-zero exit) is retried; AWS transient errors are always retried. */
export const ProcessorRetrySchema = z
  .object({
    /** Extra attempts after the first. @default 0 */
    maxAttempts: z.number().int().min(0).max(10).default(0),
    /** Seconds before the first retry. @default 10 */
    intervalSeconds: z.number().int().min(1).max(3600).default(10),
    /** Multiplier applied to the interval after each retry. @default 2 */
    backoffRate: z.number().min(1).max(10).default(2),
  })
  .strict();

/** A processor registration: the application record of processor-guide section 7. */
export const ProcessorRegistrationSchema = z
  .object({
    /** Container image reference; the key workflows resolve processors by. */
    sourceUrl: z.string().min(1),
    /** Stable id used for status tracking and compute-type overrides. @default derived from sourceUrl */
    uuid: z.string().min(1).optional(),
    /** Human-readable name. */
    name: z.string().optional(),
    /** Supported runtimes, first is the default. @default ["ecs"] */
    computeTypes: z.array(ComputeTypeSchema).min(1).default(["ecs"]),
    /** vCPU for ECS Fargate. @default 0.5 */
    cpu: z.number().positive().optional(),
    /** Memory in MiB (ECS task memory or Lambda function memory). @default 1024 on ECS, 3008 on Lambda */
    memory: z.number().int().positive().optional(),
    /** ECS ephemeral storage in GiB. @default 20 */
    ephemeralStorage: z.number().int().positive().optional(),
    /** Lambda timeout in seconds. @default 900 */
    timeout: z.number().int().positive().optional(),
    /** GPUs per ECS task (needs a node with GPU capacity). @default 0 */
    gpu: z.number().int().min(0).optional(),
    /** Parameter schema the processor accepts. */
    params: z.record(z.string(), z.unknown()).optional(),
    /** Default command-line arguments (ECS container command). */
    commandArguments: z.array(z.string()).optional(),
    /** argv run by the embedded local runner instead of the container; never used on AWS. */
    localCommand: z.array(z.string().min(1)).min(1).optional(),
    /** Retry of the processor's own failures. @default no retry */
    retry: ProcessorRetrySchema.optional(),
  })
  .strict();

export type ProcessorRegistrationInput = z.input<typeof ProcessorRegistrationSchema>;
export type ProcessorRegistration = z.output<typeof ProcessorRegistrationSchema>;
export type ProcessorRetry = z.output<typeof ProcessorRetrySchema>;

export const ProcessorRegistrationListSchema = z.array(ProcessorRegistrationSchema);
