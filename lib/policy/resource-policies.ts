import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import type { Resource } from "@pulumi/pulumi";
import { DeploymentMode, DeploymentModeSchema } from "../model/mode";
import { CheckedResource, NODE_POLICIES, NodePolicy } from "./rules";
import { TAGGABLE_TYPES, costAllocationTags } from "./cost-allocation-tags";
import type { NodePolicyConfig } from "./stack-policies";
import { TAG } from "../model/tags";

// Any @pulumi/aws resource class; the args type does not matter, the check reads inputs as plain data.
type ResourceClass = new (name: string, args: never, ...rest: any[]) => Resource;

// Resource types each invariant can judge from the resource's own inputs alone. Cross-resource parts
// (a bucket's public access block, a VPC's flow log, an Elastic IP's NAT gateway) stay stack-only.
const SELF_CONTAINED: Record<string, ResourceClass[]> = {
  "log-retention-30-days": [aws.cloudwatch.LogGroup],
  "kms-at-rest": [aws.efs.FileSystem, aws.cloudwatch.LogGroup, aws.dynamodb.Table, aws.secretsmanager.Secret, aws.kms.Key],
  "no-public-ips": [aws.ec2.Subnet, aws.ec2.Instance, aws.ec2.LaunchTemplate, aws.ecs.Service],
  "no-internet-path": [aws.ec2.InternetGateway, aws.ec2.EgressOnlyInternetGateway, aws.ec2.NatGateway, aws.ec2.Route],
  "no-lambda-processors": [aws.lambda.Function],
  "iam-no-star-actions": [aws.iam.RolePolicy, aws.iam.Policy, aws.iam.Role, aws.iam.RolePolicyAttachment],
};

/** Suffix that keeps a resource policy's name apart from the stack policy it shares checks with. */
export const RESOURCE_POLICY_SUFFIX = "-per-resource";

const MODE_TAG = TAG.mode;

/**
 * The self-contained parts of the node invariants as resource policies. The engine runs these before it
 * creates or updates each resource, so a NAT gateway in a compliant node is refused before it exists;
 * stack policies run only once the update is over, and in a preview of a new stack they meet unknown
 * ids and are skipped.
 */
export function nodeResourcePolicies(policies: readonly NodePolicy[] = NODE_POLICIES): ResourceValidationPolicy[] {
  return policies
    .filter((p) => SELF_CONTAINED[p.name])
    .map((policy) => ({
      name: `${policy.name}${RESOURCE_POLICY_SUFFIX}`,
      description: `${policy.description} (checked on each resource before it is created)`,
      enforcementLevel: "mandatory",
      configSchema: { properties: { mode: { type: "string", enum: [...DeploymentModeSchema.options] } } },
      validateResource: SELF_CONTAINED[policy.name].map((cls) =>
        validateResourceOfType(cls, (props, args, reportViolation) => {
          const inputs = props as unknown as Record<string, unknown>;
          const mode = modeOf(args.getConfig<NodePolicyConfig>().mode, inputs);
          // The stack policy reports a node whose mode cannot be told; a lone resource without the tag (a route) is no evidence.
          if (!mode) return args.notApplicable(`deployment mode unknown: set the policy config "mode" or tag the resource ${MODE_TAG}`);
          if (!policy.modes.includes(mode)) return args.notApplicable(`holds in ${policy.modes.join(", ")} mode only (mode is ${mode})`);
          const resource: CheckedResource = { type: args.type, name: args.name, inputs };
          for (const v of policy.check([resource], mode)) if (v.resource === args.name) reportViolation(v.message);
        }),
      ),
    }));
}

/**
 * The cost-allocation tags on each resource before it is created: every taggable type at once, so a
 * resource type the program starts creating is checked without being listed here.
 */
export function costAllocationTagsPerResource(): ResourceValidationPolicy {
  return {
    name: `${costAllocationTags.name}${RESOURCE_POLICY_SUFFIX}`,
    description: `${costAllocationTags.description} (checked on each resource before it is created)`,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
      if (!TAGGABLE_TYPES.has(args.type)) return;
      const resource: CheckedResource = { type: args.type, name: args.name, inputs: args.props as Record<string, unknown> };
      for (const v of costAllocationTags.check([resource], "basic")) reportViolation(v.message);
    },
  };
}

function modeOf(configured: unknown, inputs: Record<string, unknown>): DeploymentMode | undefined {
  const fromConfig = DeploymentModeSchema.safeParse(configured);
  if (fromConfig.success) return fromConfig.data;
  const tags = inputs.tags as Record<string, unknown> | undefined;
  const fromTag = DeploymentModeSchema.safeParse(tags?.[MODE_TAG]);
  return fromTag.success ? fromTag.data : undefined;
}
