import { expect } from "chai";
import type { DeploymentMode } from "../../lib/model/mode";
import { CheckedResource, checkNodePolicies } from "../../lib/policy/rules";

// Hand-built node resources, shaped as synthNode records them: references between resources hold the target's id.
const res = (type: string, name: string, inputs: Record<string, unknown>): CheckedResource => ({ type, name, inputs, id: `${name}-id` });
const doc = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
// The node program gives every taggable resource these (lib/model/tags.ts nodeTags).
const tags = (mode: DeploymentMode, extra: Record<string, string> = {}) => ({ "compute-node:node": "n1", "compute-node:environment": "dev", "compute-node:mode": mode, ...extra });

function commonResources(mode: DeploymentMode, kms: boolean): CheckedResource[] {
  const keyArn = (purpose: string) => (kms ? `arn:aws:kms:us-east-1:123456789012:key/${purpose}` : undefined);
  return [
    res("aws:s3/bucket:Bucket", "cn-n1-log-archive", { bucketPrefix: "cn-n1-logs-", tags: tags(mode) }),
    res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "cn-n1-log-archive-pab", { bucket: "cn-n1-log-archive-id", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
    res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "cn-n1-log-archive-sse", {
      bucket: "cn-n1-log-archive-id",
      rules: [{ applyServerSideEncryptionByDefault: kms ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn("s3") } : { sseAlgorithm: "AES256" }, bucketKeyEnabled: kms }],
    }),
    res("aws:cloudwatch/logGroup:LogGroup", "cn-n1-logs", { name: "/compute-node/n1", retentionInDays: 30, kmsKeyId: keyArn("logs"), tags: tags(mode) }),
    res("aws:efs/fileSystem:FileSystem", "cn-n1-efs", { encrypted: true, kmsKeyId: keyArn("efs"), tags: tags(mode) }),
    res("aws:dynamodb/table:Table", "cn-n1-executions", { name: "cn-n1-executions", serverSideEncryption: kms ? { enabled: true, kmsKeyArn: keyArn("s3") } : { enabled: true }, tags: tags(mode) }),
    res("aws:iam/role:Role", "cn-n1-task-role", { assumeRolePolicy: doc({ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }), tags: tags(mode, { "compute-node:role": "processor" }) }),
    res("aws:iam/rolePolicy:RolePolicy", "cn-n1-task-role-policy", {
      role: "cn-n1-task-role-id",
      policy: doc({ Effect: "Allow", Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], Resource: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1" }),
    }),
    res("aws:iam/role:Role", "cn-n1-state-machine-role", { assumeRolePolicy: doc({ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }), tags: tags(mode, { "compute-node:role": "state-machine" }) }),
    // Some Log delivery APIs take no resource scoping: Resource "*" with named actions is allowed.
    res("aws:iam/rolePolicy:RolePolicy", "cn-n1-state-machine-role-policy", { role: "cn-n1-state-machine-role-id", policy: doc({ Effect: "Allow", Action: ["logs:CreateLogDelivery", "logs:GetLogDelivery"], Resource: "*" }) }),
    res("aws:lambda/function:Function", "cn-n1-finalize", { name: "cn-n1-finalize", kmsKeyArn: keyArn("secrets"), tags: tags(mode) }),
  ];
}

function dedicatedVpc(mode: DeploymentMode): CheckedResource[] {
  const keys = ["efs", "s3", "logs", "secrets"].map((p) => res("aws:kms/key:Key", `cn-n1-${p}-key`, { enableKeyRotation: true, deletionWindowInDays: 30, tags: tags(mode) }));
  return [
    ...keys,
    res("aws:secretsmanager/secret:Secret", "cn-n1-token", { kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/secrets", tags: tags(mode) }),
    res("aws:ec2/vpc:Vpc", "cn-n1-vpc", { cidrBlock: "10.40.0.0/16", tags: tags(mode) }),
    res("aws:ec2/subnet:Subnet", "cn-n1-private-0", { vpcId: "cn-n1-vpc-id", mapPublicIpOnLaunch: false, tags: tags(mode, { "compute-node:tier": "private" }) }),
    res("aws:ec2/subnet:Subnet", "cn-n1-private-1", { vpcId: "cn-n1-vpc-id", mapPublicIpOnLaunch: false, tags: tags(mode, { "compute-node:tier": "private" }) }),
    res("aws:cloudwatch/logGroup:LogGroup", "cn-n1-flow-logs", { name: "/compute-node/n1/vpc-flow-logs", retentionInDays: 30, kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/logs", tags: tags(mode) }),
    res("aws:ec2/flowLog:FlowLog", "cn-n1-flow-log", { vpcId: "cn-n1-vpc-id", trafficType: "ALL", logDestinationType: "cloud-watch-logs", tags: tags(mode) }),
  ];
}

const basicNode = (): CheckedResource[] => commonResources("basic", false);

const secureNode = (): CheckedResource[] => [
  ...commonResources("secure", true),
  ...dedicatedVpc("secure"),
  res("aws:ec2/subnet:Subnet", "cn-n1-public-0", { vpcId: "cn-n1-vpc-id", mapPublicIpOnLaunch: false, tags: tags("secure", { "compute-node:tier": "public" }) }),
  res("aws:ec2/internetGateway:InternetGateway", "cn-n1-igw", { vpcId: "cn-n1-vpc-id", tags: tags("secure") }),
  res("aws:ec2/eip:Eip", "cn-n1-nat-eip", { domain: "vpc", tags: tags("secure") }),
  res("aws:ec2/natGateway:NatGateway", "cn-n1-nat", { allocationId: "cn-n1-nat-eip-id", subnetId: "cn-n1-public-0-id", tags: tags("secure") }),
  res("aws:ec2/route:Route", "cn-n1-private-default", { routeTableId: "cn-n1-private-rt-id", destinationCidrBlock: "0.0.0.0/0", natGatewayId: "cn-n1-nat-id" }),
];

const compliantNode = (): CheckedResource[] => [
  ...commonResources("compliant", true),
  ...dedicatedVpc("compliant"),
  ...["s3", "dynamodb"].map((svc) => res("aws:ec2/vpcEndpoint:VpcEndpoint", `cn-n1-vpce-${svc}`, { vpcId: "cn-n1-vpc-id", serviceName: `com.amazonaws.us-east-1.${svc}`, vpcEndpointType: "Gateway", tags: tags("compliant") })),
  ...["ecr.api", "ecr.dkr", "logs", "secretsmanager", "states", "ecs", "sts", "kms", "lambda", "elasticfilesystem"].map((svc) =>
    res("aws:ec2/vpcEndpoint:VpcEndpoint", `cn-n1-vpce-${svc}`, { vpcId: "cn-n1-vpc-id", serviceName: `com.amazonaws.us-east-1.${svc}`, vpcEndpointType: "Interface", privateDnsEnabled: true, tags: tags("compliant") }),
  ),
];

const nodes: Record<DeploymentMode, () => CheckedResource[]> = { basic: basicNode, secure: secureNode, compliant: compliantNode };

function patch(resources: CheckedResource[], name: string, inputs: Record<string, unknown>): CheckedResource[] {
  expect(resources.map((r) => r.name), `fixture has ${name}`).to.include(name);
  return resources.map((r) => (r.name === name ? { ...r, inputs: { ...r.inputs, ...inputs } } : r));
}
function without(resources: CheckedResource[], name: string): CheckedResource[] {
  expect(resources.map((r) => r.name), `fixture has ${name}`).to.include(name);
  return resources.filter((r) => r.name !== name);
}
const policiesBroken = (resources: CheckedResource[], mode: DeploymentMode) => [...new Set(checkNodePolicies(resources, mode).map((v) => v.policy))];
const violationsOf = (resources: CheckedResource[], mode: DeploymentMode, policy: string) => checkNodePolicies(resources, mode).filter((v) => v.policy === policy);

describe("checkNodePolicies", () => {
  for (const mode of ["basic", "secure", "compliant"] as const)
    it(`passes a well-formed ${mode} node`, () => {
      expect(checkNodePolicies(nodes[mode](), mode)).to.deep.equal([]);
    });

  it("holds basic nodes to neither KMS nor a dedicated VPC, but secure nodes to both", () => {
    expect(checkNodePolicies(basicNode(), "basic")).to.deep.equal([]);
    expect(policiesBroken(basicNode(), "secure")).to.include.members(["kms-at-rest", "vpc-flow-logs"]);
  });

  it("rejects a NAT gateway, its Elastic IP route and an internet gateway in compliant mode", () => {
    const broken = [
      ...compliantNode(),
      res("aws:ec2/internetGateway:InternetGateway", "cn-n1-igw", { vpcId: "cn-n1-vpc-id" }),
      res("aws:ec2/eip:Eip", "cn-n1-nat-eip", { domain: "vpc" }),
      res("aws:ec2/natGateway:NatGateway", "cn-n1-nat", { allocationId: "cn-n1-nat-eip-id", subnetId: "cn-n1-private-0-id" }),
      res("aws:ec2/route:Route", "cn-n1-private-default", { routeTableId: "rt-id", destinationCidrBlock: "0.0.0.0/0", natGatewayId: "cn-n1-nat-id" }),
    ];
    const flagged = violationsOf(broken, "compliant", "no-internet-path").map((v) => v.resource);
    expect(flagged).to.include.members(["cn-n1-igw", "cn-n1-nat", "cn-n1-private-default"]);
    // The same gateways are what secure mode is built on.
    expect(checkNodePolicies(secureNode(), "secure")).to.deep.equal([]);
  });

  it("rejects a Lambda processor function in compliant mode only", () => {
    const fn = res("aws:lambda/function:Function", "proc", { name: "proc-lambda-n1-0123456789ab", kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/secrets", tags: tags("compliant") });
    expect(violationsOf([...compliantNode(), fn], "compliant", "no-lambda-processors").map((v) => v.resource)).to.deep.equal(["proc"]);
    expect(checkNodePolicies([...secureNode(), fn], "secure")).to.deep.equal([]);
  });

  for (const mode of ["basic", "secure", "compliant"] as const) {
    it(`rejects a bucket whose public access block leaves a flag off in ${mode} mode`, () => {
      const broken = patch(nodes[mode](), "cn-n1-log-archive-pab", { restrictPublicBuckets: false });
      const found = violationsOf(broken, mode, "private-buckets");
      expect(found.map((v) => v.resource)).to.deep.equal(["cn-n1-log-archive"]);
      expect(found[0].message).to.contain("restrictPublicBuckets");
    });

    it(`rejects log groups that keep logs 7 days in ${mode} mode`, () => {
      const broken = patch(nodes[mode](), "cn-n1-logs", { retentionInDays: 7 });
      expect(violationsOf(broken, mode, "log-retention-30-days").map((v) => v.resource)).to.deep.equal(["cn-n1-logs"]);
    });

    it(`rejects a wildcard action on the processor task role in ${mode} mode`, () => {
      const broken = patch(nodes[mode](), "cn-n1-task-role-policy", { policy: doc({ Effect: "Allow", Action: ["s3:*"], Resource: "*" }) });
      const found = violationsOf(broken, mode, "no-wildcard-processor-actions");
      expect(found.map((v) => v.resource)).to.deep.equal(["cn-n1-task-role-policy"]);
      expect(found[0].message).to.contain('"s3:*"');
    });
  }

  it("rejects a bucket with no public access block at all, and a public-read ACL", () => {
    const noBlock = without(basicNode(), "cn-n1-log-archive-pab");
    expect(violationsOf(noBlock, "basic", "private-buckets").map((v) => v.resource)).to.deep.equal(["cn-n1-log-archive"]);
    const publicAcl = patch(basicNode(), "cn-n1-log-archive", { acl: "public-read" });
    expect(violationsOf(publicAcl, "basic", "private-buckets").map((v) => v.message).join()).to.contain("public-read");
  });

  it("matches each public access block to its own bucket", () => {
    const second = [
      res("aws:s3/bucket:Bucket", "cn-n1-scratch", { bucketPrefix: "cn-n1-scratch-" }),
      res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "cn-n1-scratch-sse", { bucket: "cn-n1-scratch-id", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
    ];
    // Two buckets, one block: the block of the archive does not cover the scratch bucket.
    expect(violationsOf([...basicNode(), ...second], "basic", "private-buckets").map((v) => v.resource)).to.deep.equal(["cn-n1-scratch"]);
  });

  it("rejects an unencrypted EFS file system in secure mode", () => {
    const broken = patch(secureNode(), "cn-n1-efs", { encrypted: false, kmsKeyId: undefined });
    expect(violationsOf(broken, "secure", "kms-at-rest").map((v) => v.resource)).to.deep.equal(["cn-n1-efs"]);
  });

  it("rejects a log archive encrypted with AES256 rather than a KMS key in secure mode", () => {
    const broken = patch(secureNode(), "cn-n1-log-archive-sse", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    expect(violationsOf(broken, "secure", "kms-at-rest").map((v) => v.resource)).to.deep.equal(["cn-n1-log-archive"]);
  });

  it("rejects a bucket without any encryption configuration in compliant mode", () => {
    const broken = without(compliantNode(), "cn-n1-log-archive-sse");
    expect(violationsOf(broken, "compliant", "kms-at-rest").map((v) => v.resource)).to.deep.equal(["cn-n1-log-archive"]);
  });

  it("rejects a log group, table and secret without a customer-managed key in compliant mode", () => {
    let broken = patch(compliantNode(), "cn-n1-logs", { kmsKeyId: undefined });
    broken = patch(broken, "cn-n1-executions", { serverSideEncryption: { enabled: true } });
    broken = patch(broken, "cn-n1-token", { kmsKeyId: undefined });
    expect(violationsOf(broken, "compliant", "kms-at-rest").map((v) => v.resource)).to.have.members(["cn-n1-logs", "cn-n1-executions", "cn-n1-token"]);
  });

  it("rejects a KMS key without rotation", () => {
    const broken = patch(compliantNode(), "cn-n1-efs-key", { enableKeyRotation: false });
    const found = violationsOf(broken, "compliant", "kms-at-rest");
    expect(found.map((v) => v.resource)).to.deep.equal(["cn-n1-efs-key"]);
    expect(found[0].message).to.contain("rotate");
  });

  it("rejects a VPC without a flow log", () => {
    const broken = without(secureNode(), "cn-n1-flow-log");
    expect(violationsOf(broken, "secure", "vpc-flow-logs").map((v) => v.resource)).to.deep.equal(["cn-n1-vpc"]);
  });

  it("rejects a flow log of another VPC as cover for this one", () => {
    const broken = patch(compliantNode(), "cn-n1-flow-log", { vpcId: "vpc-0someoneelse" });
    expect(violationsOf(broken, "compliant", "vpc-flow-logs").map((v) => v.resource)).to.deep.equal(["cn-n1-vpc"]);
  });

  it("rejects a private subnet that maps public IPs, and a launch template that associates one", () => {
    let broken = patch(secureNode(), "cn-n1-private-1", { mapPublicIpOnLaunch: true });
    broken = [...broken, res("aws:ec2/launchTemplate:LaunchTemplate", "cn-n1-gpu-template", { networkInterfaces: [{ associatePublicIpAddress: "true" }], tags: tags("secure") })];
    expect(violationsOf(broken, "secure", "no-public-ips").map((v) => v.resource)).to.have.members(["cn-n1-private-1", "cn-n1-gpu-template"]);
  });

  it("accepts a launch template that turns public IPs off explicitly", () => {
    const template = res("aws:ec2/launchTemplate:LaunchTemplate", "cn-n1-gpu-template", { networkInterfaces: [{ associatePublicIpAddress: "false" }], tags: tags("compliant") });
    const agentEndpoints = ["ecs-agent", "ecs-telemetry"].map((svc) => res("aws:ec2/vpcEndpoint:VpcEndpoint", `cn-n1-vpce-${svc}`, { serviceName: `com.amazonaws.us-east-1.${svc}`, vpcEndpointType: "Interface", privateDnsEnabled: true, tags: tags("compliant") }));
    expect(checkNodePolicies([...compliantNode(), template, ...agentEndpoints], "compliant")).to.deep.equal([]);
  });

  it("rejects an instance or ECS service that gets a public IP in secure mode", () => {
    const broken = [
      ...secureNode(),
      res("aws:ec2/instance:Instance", "cn-n1-bastion", { associatePublicIpAddress: true, tags: tags("secure") }),
      res("aws:ecs/service:Service", "cn-n1-svc", { networkConfiguration: { subnets: ["cn-n1-private-0-id"], assignPublicIp: true }, tags: tags("secure") }),
    ];
    expect(violationsOf(broken, "secure", "no-public-ips").map((v) => v.resource)).to.have.members(["cn-n1-bastion", "cn-n1-svc"]);
  });

  it("rejects a compliant node without a private-DNS Secrets Manager endpoint", () => {
    const missing = without(compliantNode(), "cn-n1-vpce-secretsmanager");
    expect(violationsOf(missing, "compliant", "vpc-endpoints")[0]?.message).to.contain("secretsmanager");
    const noDns = patch(compliantNode(), "cn-n1-vpce-secretsmanager", { privateDnsEnabled: false });
    expect(violationsOf(noDns, "compliant", "vpc-endpoints")[0]?.message).to.contain("secretsmanager");
  });

  it("rejects a wildcard action reaching a processor role through an attached managed policy", () => {
    const broken = [
      ...basicNode(),
      res("aws:iam/policy:Policy", "cn-n1-extra", { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) }),
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cn-n1-extra-attach", { role: "cn-n1-task-role-id", policyArn: "cn-n1-extra-id" }),
    ];
    expect(violationsOf(broken, "basic", "no-wildcard-processor-actions").map((v) => v.resource)).to.deep.equal(["cn-n1-extra"]);
  });

  it('rejects Action "*" on any role, not only processor roles', () => {
    const broken = patch(secureNode(), "cn-n1-state-machine-role-policy", { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) });
    const found = checkNodePolicies(broken, "secure");
    expect(found.map((v) => [v.policy, v.resource])).to.deep.equal([["iam-no-star-actions", "cn-n1-state-machine-role-policy"]]);
  });

  it("rejects an Allow with NotAction, an administrator managed policy and an unreadable policy document", () => {
    const broken = [
      ...patch(basicNode(), "cn-n1-state-machine-role-policy", { policy: doc({ Effect: "Allow", NotAction: ["iam:*"], Resource: "*" }) }),
      res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cn-n1-admin", { role: "cn-n1-state-machine-role-id", policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }),
      res("aws:iam/policy:Policy", "cn-n1-garbled", { policy: "{not json" }),
    ];
    const found = violationsOf(broken, "basic", "iam-no-star-actions");
    expect(found.map((v) => v.resource)).to.have.members(["cn-n1-state-machine-role-policy", "cn-n1-admin", "cn-n1-garbled"]);
    expect(found.find((v) => v.resource === "cn-n1-garbled")!.message).to.contain("cannot be checked");
  });

  it("rejects a bucket readable by every AWS account (authenticated-read)", () => {
    const broken = patch(basicNode(), "cn-n1-log-archive", { acl: "authenticated-read" });
    expect(violationsOf(broken, "basic", "private-buckets").map((v) => v.resource)).to.deep.equal(["cn-n1-log-archive"]);
  });

  it("allows a Deny statement with a wildcard action on a processor role", () => {
    const hardened = patch(basicNode(), "cn-n1-task-role-policy", {
      policy: doc({ Effect: "Allow", Action: ["elasticfilesystem:ClientMount"], Resource: "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1" }, { Effect: "Deny", Action: "iam:*", Resource: "*" }),
    });
    expect(checkNodePolicies(hardened, "basic")).to.deep.equal([]);
  });
});
