export * from "./errors";
export * from "./model";
export { resolvePlan, deriveUuid, imageRepository } from "./plan/resolve";
export type { ResolvedPlan, ResolvedProcessor, ResolvePlanOptions } from "./plan/resolve";
export * from "./compile";
export * from "./runtime/local";
export * from "./runtime/aws";
// The cost model every runtime prices executions with (docs/cost.md).
export * from "./cost";
export { executionSnapshot } from "./plan/snapshot";
export { createDataTransferHandler } from "./integrations/transfer/lambda";
export type { DataTransferHandlerOptions } from "./integrations/transfer/lambda";
export type { TransferPayload, ExecutionIds } from "./integrations/transfer/contract";
export type { TransferResult } from "./integrations/transfer/lambda";
