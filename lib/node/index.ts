export { ComputeNode } from "./compute-node";
export type { ComputeNodeArgs } from "./compute-node";
export { NodeConfigSchema, parseNodeConfig } from "./config";
export type { NodeConfig, NodeConfigInput } from "./config";
export { computeNodeProgram } from "./program";
export { readStackConfig } from "./stack-config";
export type { StackConfigSource } from "./stack-config";
