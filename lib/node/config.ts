import { z } from "zod";
import { ValidationError } from "../errors";
import { DeploymentModeSchema } from "../model/mode";
import { zodIssues } from "../model/validate";
import { keyHintErrorMap } from "../model/suggest";
import { ComputeNodeIdSchema } from "../model/ids";
import { anthropicIdOf, llmSettingsIssues, LlmConfig } from "../integrations/llm/local";

const BEDROCK_MODEL_ID = /^([a-z0-9-]+\.)?[a-z0-9-]+\.[a-z0-9.:-]+$|^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:(application-)?inference-profile\/[A-Za-z0-9.:-]+$/;
const ANTHROPIC_MODEL_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const usd = z.number().positive().max(1_000_000);
const perMTok = z.number().nonnegative().max(10_000);

/** A price per million tokens set by the node's configuration; cache rates default to 1.25×, 2× and 0.1× the input rate. */
const LlmPriceSchema = z
  .object({
    inputPerMTok: perMTok,
    outputPerMTok: perMTok,
    cacheWrite5mPerMTok: perMTok.optional(),
    cacheWrite1hPerMTok: perMTok.optional(),
    cacheReadPerMTok: perMTok.optional(),
    contextWindowTokens: z.number().int().positive().max(100_000_000).optional(),
  })
  .strict();

/**
 * The node's LLM configuration (`llm` stack config key, `llm serve --config`), names as docs/llm.md
 * gives them. The earlier shape (`allowedModels` as a list of Bedrock ids, `monthlyBudgetUsd`) is
 * still read: each id becomes allowed under the Anthropic id it names, and the monthly budget the node's.
 */
export const LlmConfigSchema = z
  .object({
    /** Anthropic model id processors name → Bedrock model or inference-profile id. @default Claude Haiku 4.5 through the region's geographic profile */
    allowedModels: z
      .preprocess(
        // The earlier list of Bedrock ids: each allowed under the Anthropic id it names.
        (v) => (Array.isArray(v) ? Object.fromEntries(v.map((id) => [typeof id === "string" ? anthropicIdOf(id) : String(id), id])) : v),
        z
          .record(z.string(), z.string().regex(BEDROCK_MODEL_ID, "must be a Bedrock model id (anthropic.…), an inference-profile id (us.anthropic.…) or an inference-profile ARN"))
          .superRefine((models, ctx) => {
            for (const id of Object.keys(models))
              if (!ANTHROPIC_MODEL_ID.test(id)) ctx.addIssue({ code: "custom", path: [id], message: `"${id}" must be an Anthropic model id such as claude-haiku-4-5 (lowercase letters, digits, '.', '-')` });
          }),
      )
      .optional(),
    budgets: z
      .object({ nodeDailyUsd: usd.optional(), nodeMonthlyUsd: usd.optional(), executionUsd: usd.optional(), userDailyUsd: usd.optional(), userMonthlyUsd: usd.optional() })
      .strict()
      .optional(),
    /** Per Bedrock id (or foundation-model id); wins over the shipped price table. */
    prices: z.record(z.string().min(1), LlmPriceSchema).optional(),
    /** Earlier name of budgets.nodeMonthlyUsd. */
    monthlyBudgetUsd: usd.optional(),
    /** A reservation not settled after this long is freed (a crashed governor). @default 960 */
    reservationTtlSeconds: z.number().int().min(60).max(86_400).optional(),
    /** Bedrock calls are cut off after this long (the governor Lambda runs at most 900 s). @default 840 */
    callTimeoutSeconds: z.number().int().min(10).max(870).optional(),
  })
  .strict()
  .transform((c): LlmConfig => {
    const allowedModels = c.allowedModels;
    const budgets = c.monthlyBudgetUsd !== undefined && c.budgets?.nodeMonthlyUsd === undefined ? { ...c.budgets, nodeMonthlyUsd: c.monthlyBudgetUsd } : c.budgets;
    return {
      ...(allowedModels && Object.keys(allowedModels).length ? { allowedModels } : {}),
      ...(budgets ? { budgets } : {}),
      ...(c.prices ? { prices: c.prices } : {}),
      ...(c.reservationTtlSeconds !== undefined ? { reservationTtlSeconds: c.reservationTtlSeconds } : {}),
      ...(c.callTimeoutSeconds !== undefined ? { callTimeoutSeconds: c.callTimeoutSeconds } : {}),
    };
  });

/** Checks an LLM configuration file (`llm serve --config`); a ValidationError names each bad key. */
export function parseLlmConfig(value: unknown, prefix: (string | number)[] = ["config"]): LlmConfig {
  const parsed = LlmConfigSchema.safeParse(value, { error: keyHintErrorMap });
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, prefix), { cause: parsed.error });
  return parsed.data;
}

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
    /** Governed LLM access: allowed models, budgets, prices (docs/llm.md). Checked only with enableLLMAccess. */
    llm: LlmConfigSchema.prefault({}),
    /** Monthly AWS budget alert for the node's cost-allocation tag. */
    budget: z
      .object({ monthlyUsd: z.number().positive(), alertEmails: z.array(z.string().email()).min(1) })
      .strict()
      .optional(),
    /** S3 buckets DownloadInputs may read from (ARNs). @default none */
    inputBucketArns: z.array(z.string().regex(/^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$/, "must be an S3 bucket ARN")).default([]),
    /**
     * Where runs may upload their results (an invocation's `outputs`): bucket ARNs, or a bucket ARN
     * and key prefix (`arn:aws:s3:::results/pennsieve`) to allow only that prefix. The data-transfer
     * function may put objects there and nowhere else. @default none: runs with an s3:// `outputs` are refused
     */
    outputBucketArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^*?\s]*)?$/, "must be an S3 bucket ARN, optionally followed by /key-prefix (no wildcards)"))
      .default([]),
    /**
     * The Cognito app client that issued the executions' tokens: with it, the node refreshes a
     * session token that expires within 15 minutes before each processor starts. A public client
     * (no client secret). @default none: processors refresh for themselves
     */
    cognito: z
      .object({
        region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1"),
        clientId: z.string().regex(/^[\w+]{1,128}$/, "must be a Cognito app client id"),
      })
      .strict()
      .optional(),
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
    // Prices and models are checked only where they are used: a model without a price would be refused at every call.
    if (config.enableLLMAccess)
      for (const issue of llmSettingsIssues(config.llm, { computeNodeId: config.computeNodeId, region: config.region, path: ["llm"] }))
        ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
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
  const parsed = NodeConfigSchema.safeParse(withModeAlias(value), { error: keyHintErrorMap });
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
