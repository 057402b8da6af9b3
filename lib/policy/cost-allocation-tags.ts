import { COST_ALLOCATION_TAG_KEYS, missingCostAllocationTags } from "../model/tags";
import type { CheckedResource, NodePolicy, PolicyViolation } from "./rules";

/**
 * Resource types that take tags (their Pulumi args have `tags`): the ones the node program creates,
 * and the ones a node might gain. test/policy/cost-allocation-tags.test.ts checks each against
 * @pulumi/aws and fails when the program creates a type listed in neither this nor UNTAGGABLE_TYPES.
 */
export const TAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:autoscaling/group:Group",
  "aws:budgets/budget:Budget",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:dynamodb/table:Table",
  "aws:ec2/eip:Eip",
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
  "aws:ec2/flowLog:FlowLog",
  "aws:ec2/instance:Instance",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/launchTemplate:LaunchTemplate",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/vpc:Vpc",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:ecs/capacityProvider:CapacityProvider",
  "aws:ecs/cluster:Cluster",
  "aws:ecs/service:Service",
  "aws:ecs/taskDefinition:TaskDefinition",
  "aws:efs/accessPoint:AccessPoint",
  "aws:efs/fileSystem:FileSystem",
  "aws:iam/instanceProfile:InstanceProfile",
  "aws:iam/policy:Policy",
  "aws:iam/role:Role",
  "aws:kms/key:Key",
  "aws:lambda/function:Function",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:secretsmanager/secret:Secret",
  "aws:sfn/stateMachine:StateMachine",
]);

/** Types the node program creates that AWS (or Pulumi) gives no tags: the policy skips them. */
export const UNTAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:cloudwatch/eventTarget:EventTarget",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
  "aws:efs/mountTarget:MountTarget",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:kms/alias:Alias",
  "aws:lambda/permission:Permission",
  "aws:lambda/functionUrl:FunctionUrl",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketVersioning:BucketVersioning",
  "compute-node:index:ComputeNode",
  "pulumi-nodejs:dynamic:Resource",
  "pulumi:providers:aws",
]);

/**
 * Every taggable resource carries the cost-allocation tags, so Cost Explorer can split spend by node
 * and environment (docs/node.md "Cost allocation"). A real stack's resources report the tags they
 * were given in `tags` (and the provider's in `tagsAll`); either counts.
 */
export const costAllocationTags: NodePolicy = {
  name: "cost-allocation-tags",
  description: `Every taggable resource carries the cost-allocation tags ${COST_ALLOCATION_TAG_KEYS.join(" and ")}.`,
  modes: ["basic", "secure", "compliant"],
  check(resources: readonly CheckedResource[]): PolicyViolation[] {
    const out: PolicyViolation[] = [];
    for (const r of resources) {
      if (!TAGGABLE_TYPES.has(r.type)) continue;
      const missing = missingCostAllocationTags(r.inputs.tags);
      const fromProvider = missingCostAllocationTags(r.inputs.tagsAll);
      const lacking = missing.filter((key) => fromProvider.includes(key));
      if (lacking.length)
        out.push({ policy: this.name, resource: r.name, message: `${r.type.split(":").pop()} "${r.name}" lacks the cost-allocation tag${lacking.length > 1 ? "s" : ""} ${lacking.join(", ")}: give it the node's tags (nodeTags in lib/model/tags.ts)` });
    }
    return out;
  },
};
