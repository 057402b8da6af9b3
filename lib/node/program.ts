import { ComputeNode } from "./compute-node";
import { NodeConfig } from "./config";

/** The node as a Pulumi program (inline for the Automation API, or the body of programs/compute-node). */
export function computeNodeProgram(config: NodeConfig): () => Promise<Record<string, unknown>> {
  return async () => new ComputeNode(`cn-${config.computeNodeId}`, { config }).outputs();
}
