import { z } from "zod";
import { ValidationError } from "../errors";
import { DeploymentModeSchema } from "../model/mode";
import { zodIssues } from "../model/validate";
import { ComputeNodeIdSchema } from "../model/ids";

/** Configuration of one compute node: Pulumi stack config (`compute-node:<key>`) or the provisioning API's body. */
export const NodeConfigSchema = z
  .object({
    /** Stable id of the node; names and tags every resource. */
    computeNodeId: ComputeNodeIdSchema,
    mode: DeploymentModeSchema,
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1"),
    /** Cost-allocation tag and ENVIRONMENT of processors. @default "dev" */
    environment: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default("dev"),
    /** CIDR of the dedicated VPC (secure, compliant). @default "10.40.0.0/16" */
    vpcCidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, "must be an IPv4 CIDR from /16 to /24").default("10.40.0.0/16"),
    /** Availability zones of the dedicated VPC. @default 2 */
    availabilityZones: z.number().int().min(2).max(6).default(2),
    /** Secure mode: route private subnets through this existing NAT gateway (shared between nodes) instead of creating one. */
    existingNatGatewayId: z.string().regex(/^nat-[0-9a-f]{8,17}$/, "must be a NAT gateway id (nat-…)").optional(),
    /**
     * Basic mode: how the default VPC reaches S3 privately (the data-transfer Lambda runs there, gets no
     * public IP and has no NAT). `create` adds an S3 gateway endpoint on the route tables of the node's
     * subnets; `existing` creates nothing and relies on one the VPC already has. A route table takes one
     * S3 endpoint only, so every basic node after the first in a VPC sets `existing`.
     * @default "create" (basic mode; refused in secure and compliant modes)
     */
    s3GatewayEndpoint: z.enum(["create", "existing"]).optional(),
    gpu: z
      .object({
        enabled: z.boolean().default(false),
        /** @default "g4dn.xlarge" */
        instanceType: z.string().regex(/^g4dn\.[a-z0-9]+$/, "must be a g4dn instance type").default("g4dn.xlarge"),
        /** @default 2 */
        maxInstances: z.number().int().min(1).max(100).default(2),
      })
      .strict()
      .default({ enabled: false, instanceType: "g4dn.xlarge", maxInstances: 2 }),
    /** Governed Bedrock access for processors. @default false */
    enableLLMAccess: z.boolean().default(false),
    /** Secure and compliant modes with LLM access: the operator acknowledges the AWS BAA covers Bedrock use. */
    baaAcknowledged: z.boolean().default(false),
    llm: z
      .object({
        /** Model ids processors may call. */
        allowedModels: z.array(z.string().min(1)).min(1).default(["anthropic.claude-3-5-haiku-20241022-v1:0"]),
        /** Monthly LLM budget in USD; calls are refused past it. @default 100 */
        monthlyBudgetUsd: z.number().positive().default(100),
      })
      .strict()
      .default({ allowedModels: ["anthropic.claude-3-5-haiku-20241022-v1:0"], monthlyBudgetUsd: 100 }),
    /** Monthly AWS budget alert for the node's cost-allocation tag. */
    budget: z
      .object({ monthlyUsd: z.number().positive(), alertEmails: z.array(z.string().email()).min(1) })
      .strict()
      .optional(),
    /** S3 buckets DownloadInputs may read from (ARNs). @default none */
    inputBucketArns: z.array(z.string().regex(/^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$/, "must be an S3 bucket ARN")).default([]),
    pennsieveApiHost: z.string().url().default("https://api.pennsieve.net"),
    pennsieveApiHost2: z.string().url().default("https://api2.pennsieve.net"),
    /** Destroy even while an execution of the node runs. @default false */
    forceDestroy: z.boolean().default(false),
    /** Extra cost-allocation tags. */
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.enableLLMAccess && config.mode !== "basic" && !config.baaAcknowledged)
      ctx.addIssue({
        code: "custom",
        path: ["baaAcknowledged"],
        message: `${config.mode} mode with enableLLMAccess requires baaAcknowledged: true (confirm the AWS BAA covers Bedrock)`,
      });
    if (config.existingNatGatewayId && config.mode !== "secure")
      ctx.addIssue({ code: "custom", path: ["existingNatGatewayId"], message: `only secure mode uses a NAT gateway (mode is ${config.mode})` });
    if (config.s3GatewayEndpoint && config.mode !== "basic")
      ctx.addIssue({
        code: "custom",
        path: ["s3GatewayEndpoint"],
        message: `only basic mode uses the default VPC's S3 gateway endpoint (mode is ${config.mode}: ${config.mode === "secure" ? "S3 goes through the NAT gateway" : "the node's VPC has its own"}); remove the key`,
      });
  });

export type NodeConfigInput = z.input<typeof NodeConfigSchema>;
export type NodeConfig = z.output<typeof NodeConfigSchema>;

/** Validates node config, throwing a ValidationError whose issue paths name the config key. */
export function parseNodeConfig(value: unknown, prefix: (string | number)[] = ["config"]): NodeConfig {
  const parsed = NodeConfigSchema.safeParse(withModeAlias(value));
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, prefix), { cause: parsed.error });
  return parsed.data;
}

// Stack outputs and the provisioning API call the mode `deploymentMode`; accept it as an alias of `mode`.
function withModeAlias(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  const { deploymentMode, ...rest } = value as Record<string, unknown>;
  if (deploymentMode === undefined) return value;
  if (rest.mode !== undefined && rest.mode !== deploymentMode) return value;
  return { ...rest, mode: deploymentMode };
}
