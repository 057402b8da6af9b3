import { NodeOutputs } from "../../model/node-outputs";
import { readJsonFile } from "../../json-file";
import { AwsClients, createAwsClients } from "./clients";
import { parseNodeOutputs } from "./node";

export interface LoadNodeOptions {
  /** Relative paths are resolved from here. */
  cwd: string;
  /** AWS_ENDPOINT_URL and credentials come from here. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** What named the file, for error paths. @default "--node" */
  label?: string;
}

/**
 * A node's stack outputs file (`pulumi stack output --json > node.json`) parsed, with the AWS clients
 * for its region (AWS_ENDPOINT_URL is honoured): what deploy, start and cleanup work against.
 */
export function loadNode(file: string, options: LoadNodeOptions): { node: NodeOutputs; clients: AwsClients } {
  const node = parseNodeOutputs(readJsonFile(file, options.label ?? "--node", options.cwd));
  return { node, clients: createAwsClients({ region: node.region, env: options.env ?? process.env }) };
}

/** A node's stack outputs file, parsed (no clients): for reads that build their own. */
export function readNodeFile(file: string, options: Omit<LoadNodeOptions, "env">): NodeOutputs {
  return parseNodeOutputs(readJsonFile(file, options.label ?? "--node", options.cwd));
}
