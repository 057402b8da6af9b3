export { COST_CATEGORIES, NODE_FUNCTION_MEMORY_MB, buildCostReport, costSummary, fargateBilledSeconds, lambdaBilledMs } from "./report";
export type { CostCategory, CostLine, CostReport, CostReportSource, CostSummary, ExecutionUsage, MissingCost, NodeFunctionKind, ProcessorCost, ProcessorCostStatus, ProcessorUsage, RunUsage } from "./report";
export { PRICED_REGIONS, PRICE_KEYS, PRICE_TABLES, RULE_KEYS, findPriceTable, priceTableFor, priceTableProblems } from "./price-table";
export type { Price, PriceKey, PriceTable, RuleKey } from "./price-table";
