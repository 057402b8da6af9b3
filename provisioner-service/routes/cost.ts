import { z } from "zod";
import { ValidationError } from "../../lib/errors";
import { resolvePlan } from "../../lib/plan/resolve";
import { costSummary } from "../../lib/cost/report";
import { estimateWorkflowCost, hintsFromWorkflowRecords } from "../../lib/cost/workflow-cost";
import { priceTableFor } from "../../lib/cost/price-table";
import { MonthlyAssumptions, NodeMonthlyCost } from "../../lib/cost/node-monthly";
import { nodeMonthlyCostInChildProcess } from "../../lib/cost/node-cost";
import { defineRoute, RouteSpec } from "../route";
import { CostEstimateBodySchema, CostReportSchema, CostSummarySchema, NodeCostQuerySchema, NodeMonthlyCostSchema } from "../schemas/cost";
import { errorResponses } from "./responses";

/** Prices a node config's fixed monthly cost; the default synthesizes it in a child process. */
export type NodeCostEstimator = (config: Record<string, unknown>, assumptions: Partial<MonthlyAssumptions>) => Promise<NodeMonthlyCost>;

export interface CostRouteDeps {
  /**
   * Pulumi's mocks are process-global and this process runs real Pulumi programs, so the node is
   * synthesized in a child process. @default nodeMonthlyCostInChildProcess
   */
  nodeCost?: NodeCostEstimator;
  /** @default () => new Date() */
  now?: () => Date;
}

/** Answers a node config kept at most this many times; the answers only change with the code and its price tables. */
const NODE_COST_CACHE_SIZE = 64;

export function costRoutes(deps: CostRouteDeps = {}): RouteSpec[] {
  const nodeCost = deps.nodeCost ?? nodeMonthlyCostInChildProcess;
  const now = deps.now ?? (() => new Date());
  const cache = new Map<string, Promise<NodeMonthlyCost>>();
  return [
    defineRoute<Record<string, never>, Record<string, never>, z.output<typeof CostEstimateBodySchema>>({
      method: "post",
      path: "/v1/cost/estimate",
      operationId: "estimateWorkflowCost",
      summary: "What one successful execution of a workflow would cost: per processor from hints or earlier records, transitions and the node's Lambdas from the compiled machine (docs/cost.md).",
      body: CostEstimateBodySchema,
      responses: {
        200: { description: "The estimate: `{totalUsd, lines, pricingVersion, region, missing}`, or the whole report with `report: true`.", schema: z.union([CostSummarySchema, CostReportSchema]) },
        ...errorResponses(400, 401, 413, 415),
      },
      handler: async ({ body }) => {
        const plan = underBody(() => resolvePlan(body.workflow, { processors: body.processors, invocation: body.invocation, mode: body.mode }));
        const hints = body.hints ?? (body.records ? hintsFromWorkflowRecords(body.records, plan.workflow.name, ["body", "records"]) : {});
        const report = underBody(() => estimateWorkflowCost({ plan, hints, region: body.region, now: now() }));
        return { status: 200, body: body.report ? report : costSummary(report) };
      },
    }),
    defineRoute<Record<string, never>, z.output<typeof NodeCostQuerySchema>>({
      method: "get",
      path: "/v1/cost/node",
      operationId: "estimateNodeCost",
      summary: "A node's fixed monthly cost before any execution (NAT, interface endpoints × zones, KMS keys, flow logs, log storage, EFS), from the resources its program creates.",
      query: NodeCostQuerySchema,
      responses: { 200: { description: "The monthly cost: `{totalUsd, lines, pricingVersion, region, missing, period}`.", schema: NodeMonthlyCostSchema }, ...errorResponses(400, 401) },
      handler: async ({ query }) => {
        // Refused here, before a child process spends seconds synthesizing a node it cannot price.
        priceTableFor(query.region, ["query", "region"]);
        const config = {
          computeNodeId: "estimate",
          mode: query.mode,
          region: query.region,
          ...(query.availabilityZones !== undefined ? { availabilityZones: query.availabilityZones } : {}),
          // Acknowledging the BAA changes no resource: it only lets the estimate of a protected node with LLM access be made.
          ...(query.enableLLMAccess ? { enableLLMAccess: true, baaAcknowledged: true } : {}),
          ...(query.gpu ? { gpu: { enabled: true } } : {}),
          ...(query.existingNatGatewayId ? { existingNatGatewayId: query.existingNatGatewayId } : {}),
        };
        const assumptions = { processorLogGb: query.logGb, flowLogGb: query.flowLogGb, efsGb: query.efsGb };
        const key = JSON.stringify([config, assumptions]);
        let answer = cache.get(key);
        if (!answer) {
          answer = nodeCost(config, assumptions);
          if (cache.size >= NODE_COST_CACHE_SIZE) cache.delete(cache.keys().next().value!);
          cache.set(key, answer);
          // A failure is not kept: the next request tries again.
          answer.catch(() => cache.delete(key));
        }
        return { status: 200, body: await answer };
      },
    }),
  ];
}

/** Validation issues of the body's documents, with paths under `body` as the service reports them. */
function underBody<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(err.issues.map((i) => ({ ...i, path: ["body", ...i.path] })), { cause: err });
  }
}
