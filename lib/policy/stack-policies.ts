import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { DeploymentMode, DeploymentModeSchema } from "../model/mode";
import { CheckedResource, NODE_POLICIES, NodePolicy } from "./rules";
import { TAG } from "../model/tags";

/** Policy pack configuration: `mode` overrides the mode read from the resources' `compute-node:mode` tag. */
export interface NodePolicyConfig {
  mode?: DeploymentMode;
}

function toChecked(r: PolicyResource): CheckedResource {
  const props = (r.props ?? {}) as Record<string, unknown>;
  return { type: r.type, name: r.name, inputs: props, id: typeof props.id === "string" ? props.id : undefined };
}

// The node tags every taggable resource with its mode, so the pack needs no config for a node stack.
function modeOf(resources: readonly CheckedResource[], configured: unknown): DeploymentMode | undefined {
  const fromConfig = DeploymentModeSchema.safeParse(configured);
  if (fromConfig.success) return fromConfig.data;
  const tagged = new Set(resources.map((r) => (r.inputs.tags as Record<string, unknown> | undefined)?.[TAG.mode]).filter((m) => m !== undefined));
  if (tagged.size !== 1) return undefined;
  const parsed = DeploymentModeSchema.safeParse([...tagged][0]);
  return parsed.success ? parsed.data : undefined;
}

function toStackPolicy(policy: NodePolicy): StackValidationPolicy {
  return {
    name: policy.name,
    description: policy.description,
    enforcementLevel: "mandatory",
    configSchema: { properties: { mode: { type: "string", enum: [...DeploymentModeSchema.options] } } },
    validateStack(args, reportViolation) {
      const resources = args.resources.map(toChecked);
      const mode = modeOf(resources, args.getConfig<NodePolicyConfig>().mode);
      if (!mode) {
        reportViolation(`cannot tell the node's deployment mode: set the policy config "mode" or tag resources with "${TAG.mode}" (one value)`);
        return;
      }
      if (!policy.modes.includes(mode)) return;
      const urnOf = new Map(args.resources.map((r) => [r.name, r.urn]));
      for (const v of policy.check(resources, mode)) reportViolation(v.message, v.resource ? urnOf.get(v.resource) : undefined);
    },
  };
}

/** The node invariants as stack validation policies, for a `PolicyPack` (see lib/policy/pack). */
export function nodeStackPolicies(): StackValidationPolicy[] {
  return NODE_POLICIES.map(toStackPolicy);
}
