import { z } from "zod";
import { COST_CATEGORIES } from "./report";

/**
 * The cost report as zod schemas: the source of schemas/cost-report.schema.json (`npm run schemas`)
 * and of the provisioning service's cost responses. The report itself is built without zod
 * (lib/cost/report.ts ships in the finalize Lambda); tests check real reports against these.
 */

export const CostCategorySchema = z.enum(COST_CATEGORIES).describe("What a line is for: ECS (Fargate), Lambda, Step Functions, the data-transfer function, EFS, CloudWatch Logs, NAT, VPC endpoints, KMS, LLM (Bedrock) or other.");

export const CostLineSchema = z
  .object({
    item: z.string().describe("What is priced, for people: `Fargate vCPU`, `interface endpoint logs (2 zones)`…"),
    category: CostCategorySchema,
    quantity: z.number().min(0).describe("How many `unit`s."),
    unit: z.string().describe("The unit priced, e.g. `vCPU-hour`, `GB-second`, `transition`."),
    usd: z.number().min(0).describe("US dollars, rounded to the nano-dollar."),
  })
  .strict()
  .meta({ id: "CostLine", description: "One priced line: `quantity` `unit`s cost `usd`." });

export const MissingCostSchema = z
  .object({
    item: z.string().describe("What could not be priced."),
    category: CostCategorySchema,
    reason: z.string().describe("Why, and what it would cost per unit where that helps."),
  })
  .strict()
  .meta({ id: "MissingCost", description: "Something the total leaves out, and why." });

export const ProcessorCostSchema = z
  .object({
    processorId: z.string().describe("The processor's id in the workflow."),
    computeType: z.enum(["ecs", "lambda"]).describe("Where it ran."),
    status: z.enum(["SUCCEEDED", "FAILED", "STARTED", "NOT_STARTED", "UNKNOWN"]).describe("Its outcome when the report was made."),
    attempts: z.number().int().min(0).describe("Runs billed: the first and every retry."),
    retries: z.number().int().min(0).describe("Runs after the first."),
    durationSeconds: z.number().min(0).describe("Seconds its runs took, summed."),
    billedSeconds: z.number().min(0).describe("Seconds billed, summed: each ECS task rounded up to the second with a one-minute minimum, each Lambda invocation to the millisecond."),
    vcpu: z.number().min(0).describe("vCPU per task (ECS)."),
    memoryMiB: z.number().min(0).describe("Memory per task or function, MiB."),
    ephemeralStorageGiB: z.number().min(0).describe("ECS ephemeral storage, GiB; beyond 20 is billed."),
    usd: z.number().min(0).describe("Its runs' cost."),
    unfinished: z.boolean().optional().describe("A run had not ended: priced up to `generatedAt`."),
    unpriced: z.string().optional().describe("Why its runs are not in the total (GPU processors run on EC2 capacity)."),
  })
  .strict()
  .meta({ id: "ProcessorCost", description: "One processor's runs, priced." });

export const CostReportSchema = z
  .object({
    reportVersion: z.literal(1).describe("The report format's version."),
    source: z.enum(["local", "aws", "estimate"]).describe("Who measured the usage: the local runner, the finalize Lambda from the execution's history, or an estimate from runtime hints."),
    nominal: z.boolean().describe("True for local runs and estimates: what a node would be charged, not a bill."),
    computeNodeId: z.string().describe("The node the execution ran (or would run) on."),
    workflowInstanceId: z.string().optional().describe("The execution; absent in estimates."),
    workflowName: z.string().optional().describe("The workflow's name."),
    mode: z.enum(["basic", "secure", "compliant"]).describe("The node's deployment mode: it decides the network path priced."),
    status: z.enum(["SUCCEEDED", "FAILED"]).optional().describe("The execution's outcome as finalize saw it."),
    generatedAt: z.string().describe("ISO time the report describes the execution at."),
    currency: z.literal("USD").describe("Always US dollars."),
    region: z.string().describe("The region whose price table was used."),
    pricingVersion: z.string().describe("The price table's version (the date its prices were checked), or `none` when the region has no table."),
    totalUsd: z.number().min(0).describe("The sum of `lines`."),
    lines: z.array(CostLineSchema).describe("The priced lines."),
    missing: z.array(MissingCostSchema).describe("What could not be priced; a partial report never fails an execution."),
    processors: z.array(ProcessorCostSchema).describe("Every processor of the workflow, priced."),
    makespanSeconds: z.number().min(0).optional().describe("Estimates: seconds from start to end under the hints, read from the compiled machine."),
  })
  .strict()
  .meta({ id: "CostReport", title: "compute-node cost report", description: "What one execution cost (cost-report.json, written by finalize) or would cost (an estimate); docs/cost.md." });

export const CostSummarySchema = z
  .object({
    totalUsd: z.number().min(0).describe("The sum of `lines`."),
    lines: z.array(CostLineSchema).describe("The priced lines."),
    pricingVersion: z.string().describe("The price table's version."),
    region: z.string().describe("The region whose prices apply."),
    missing: z.array(MissingCostSchema).describe("What could not be priced."),
  })
  .strict()
  .meta({ id: "CostEstimate", description: "One successful execution's estimated cost (`compute-node cost estimate --json`)." });

export const NodeMonthlyCostSchema = CostSummarySchema.extend({ period: z.literal("month").describe("The lines are per month.") }).meta({
  id: "NodeMonthlyCost",
  description: "A node's fixed monthly cost before any execution (`compute-node cost node --json`).",
});

/** schemas/cost-report.schema.json, as `npm run schemas` writes it. */
export function renderCostReportJsonSchema(): Record<"cost-report.schema.json", string> {
  const schema = z.toJSONSchema(CostReportSchema, { io: "output", target: "draft-7", unrepresentable: "throw" });
  return { "cost-report.schema.json": JSON.stringify(schema, null, 2) + "\n" };
}
