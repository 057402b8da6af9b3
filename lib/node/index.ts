export { ComputeNode } from "./compute-node";
export type { ComputeNodeArgs } from "./compute-node";
export { NodeConfigSchema, parseNodeConfig } from "./config";
export type { NodeConfig, NodeConfigInput } from "./config";
export { computeNodeProgram } from "./program";
