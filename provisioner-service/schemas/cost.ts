import { z } from "zod";
import { DeploymentModeSchema } from "../../lib/model/mode";
import { ExecutionRecordSchema } from "../../lib/model/execution-record";
import { CostReportSchema, CostSummarySchema, NodeMonthlyCostSchema } from "../../lib/cost/schema";

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const Region = z.string().regex(AWS_REGION, "must be an AWS region such as us-east-1");

export const CostEstimateBodySchema = z
  .object({
    workflow: z.record(z.string(), z.unknown()).describe("The workflow document (what `compute-node cost estimate WORKFLOW` reads)."),
    processors: z.unknown().optional().describe("Processor registrations (array or {processors}); absent: every processor defaults to ECS."),
    invocation: z.record(z.string(), z.unknown()).optional().describe("The workflow invocation (processorConfigs, computeTypeOverrides)."),
    mode: DeploymentModeSchema.default("basic").describe("The node's deployment mode."),
    region: Region.default("us-east-1").describe("The region whose prices apply."),
    hints: z.record(z.string(), z.number().min(0)).optional().describe("Expected seconds per processor id."),
    records: z.array(ExecutionRecordSchema).max(1000).optional().describe("Earlier execution records of this workflow: the median of each processor's successful runs."),
    report: z.boolean().default(false).describe("Answer the whole cost report (per processor, makespan) instead of the summary."),
  })
  .strict()
  .refine((b) => !(b.hints && b.records), { message: "give hints or records, not both", path: ["records"] })
  .meta({ id: "CostEstimateRequest" });

const Flag = z
  .enum(["true", "false"])
  .transform((v) => v === "true")
  .optional();
const Gigabytes = z.coerce.number().min(0).max(1_000_000).optional();

export const NodeCostQuerySchema = z
  .object({
    mode: DeploymentModeSchema.describe("The node's deployment mode."),
    region: Region.default("us-east-1").describe("AWS region."),
    availabilityZones: z.coerce.number().int().min(2).max(6).optional().describe("Zones of the dedicated VPC (secure, compliant). Default 2."),
    enableLLMAccess: Flag.describe("Governed Bedrock access (compliant mode adds its endpoint)."),
    gpu: Flag.describe("A GPU capacity provider (its instances are not priced: they run only while busy)."),
    existingNatGatewayId: z.string().regex(/^nat-[0-9a-f]{8,17}$/, "must be a NAT gateway id (nat-…)").optional().describe("Secure mode: a NAT gateway shared with other nodes, whose hours this node does not pay."),
    logGb: Gigabytes.describe("GB the processors log per month. Default 1."),
    flowLogGb: Gigabytes.describe("GB of VPC flow logs per month. Default 5."),
    efsGb: Gigabytes.describe("GB resident on EFS between executions. Default 1."),
  })
  .strict();

export { CostReportSchema, CostSummarySchema, NodeMonthlyCostSchema };
