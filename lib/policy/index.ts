export { NODE_POLICIES, checkNodePolicies, flowLogs, kmsAtRest, logRetention, noInternetPath, noLambdaProcessors, noPublicIps, noWildcardProcessorActions, privateBuckets, vpcEndpoints } from "./rules";
export type { CheckedResource, NodePolicy, PolicyViolation } from "./rules";
export { nodeStackPolicies } from "./stack-policies";
export { costAllocationTagsPerResource, nodeResourcePolicies } from "./resource-policies";
export { noStarActions } from "./iam-star-actions";
export type { NodePolicyConfig } from "./stack-policies";
export { costAllocationTags, TAGGABLE_TYPES, UNTAGGABLE_TYPES } from "./cost-allocation-tags";
