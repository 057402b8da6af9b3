import * as pulumi from "@pulumi/pulumi";
import { ComputeNode } from "./compute-node";
import { NodeConfig } from "./config";

/** The node as a Pulumi program (inline for the Automation API, or the body of programs/compute-node). */
export function computeNodeProgram(config: NodeConfig): () => Promise<Record<string, pulumi.Output<unknown>>> {
  return async () => {
    const outputs = new ComputeNode(`cn-${config.computeNodeId}`, { config }).outputs();
    return Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, pulumi.output(value)]));
  };
}
