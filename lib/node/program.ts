import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ComputeNode } from "./compute-node";
import { NodeConfig } from "./config";
import { providerArgsFromEnv } from "./provider-args";

/** The node as a Pulumi program (inline for the Automation API, or the body of programs/compute-node). */
export function computeNodeProgram(config: NodeConfig): () => Promise<Record<string, pulumi.Output<unknown>>> {
  return async () => {
    const name = `cn-${config.computeNodeId}`;
    // An explicit provider, so the node lands in its configured region whatever aws:region or AWS_REGION say.
    const provider = new aws.Provider(`${name}-aws`, { ...providerArgsFromEnv(process.env), region: config.region as aws.Region });
    const outputs = new ComputeNode(name, { config }, { providers: [provider] }).outputs();
    return Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, pulumi.output(value)]));
  };
}
