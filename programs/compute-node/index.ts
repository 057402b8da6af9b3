import * as pulumi from "@pulumi/pulumi";
import { parseNodeConfig } from "../../lib/node/config";
import { computeNodeProgram } from "../../lib/node/program";

// Stack config keys are the NodeConfig fields (docs/node.md); structured ones are given with --path or as JSON.
const config = new pulumi.Config("compute-node");
const keys = ["computeNodeId", "mode", "region", "environment", "vpcCidr", "availabilityZones", "existingNatGatewayId", "gpu", "enableLLMAccess", "baaAcknowledged", "llm", "budget", "inputBucketArns", "pennsieveApiHost", "pennsieveApiHost2", "forceDestroy", "tags"];
const raw: Record<string, unknown> = {};
for (const key of keys) {
  const text = config.get(key);
  if (text !== undefined) raw[key] = configValue(text);
}
raw.region ??= new pulumi.Config("aws").get("region");

module.exports = computeNodeProgram(parseNodeConfig(raw, ["compute-node"]))();

// Objects, lists, booleans and numbers arrive as JSON text; ids stay strings even when they look numeric.
function configValue(text: string): unknown {
  if (/^[[{]/.test(text) || text === "true" || text === "false" || /^\d+$/.test(text) && text.length < 3) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
