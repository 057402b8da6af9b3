export * from "./errors";
export * from "./model";
export { resolvePlan, deriveUuid, imageRepository } from "./plan/resolve";
export type { ResolvedPlan, ResolvedProcessor, ResolvePlanOptions } from "./plan/resolve";
export * from "./compile";
export * from "./runtime/local";
export * from "./runtime/aws";
export { executionSnapshot } from "./plan/snapshot";
