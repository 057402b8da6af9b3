import { expect } from "chai";
import type { ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { nodeResourcePolicies } from "../../lib/policy/resource-policies";
import { nodeStackPolicies } from "../../lib/policy/stack-policies";

class NotApplicable extends Error {}

interface Outcome {
  reported: { policy: string; message: string }[];
  notApplicable: string[];
}

// What the engine hands a resource policy just before it creates a resource: its type, name and inputs.
function analyze(type: string, name: string, props: Record<string, unknown>, config: { mode?: string } = {}): Outcome {
  const outcome: Outcome = { reported: [], notApplicable: [] };
  for (const policy of nodeResourcePolicies()) {
    const validations = ([] as ResourceValidation[]).concat(policy.validateResource ?? []);
    for (const validate of validations) {
      const args = {
        type,
        name,
        props,
        urn: `urn:pulumi:dev::compute-node::${type}::${name}`,
        isType: (cls: { __pulumiType?: string }) => cls.__pulumiType === type,
        getConfig: () => config,
        notApplicable: (reason?: string) => {
          throw new NotApplicable(reason);
        },
      } as unknown as ResourceValidationArgs;
      try {
        void validate(args, (message) => outcome.reported.push({ policy: policy.name, message }));
      } catch (e) {
        if (!(e instanceof NotApplicable)) throw e;
        // Type mismatches are how validateResourceOfType skips other types; only the policies' own reasons matter here.
        if (!/^Policy only applies/.test(e.message)) outcome.notApplicable.push(`${policy.name}: ${e.message}`);
      }
    }
  }
  return outcome;
}

const mode = (m: string) => ({ "compute-node:node": "n1", "compute-node:mode": m });

describe("nodeResourcePolicies", () => {
  it("refuses a NAT gateway of a compliant node before it is created, reading the mode from its tag", () => {
    const { reported } = analyze("aws:ec2/natGateway:NatGateway", "cn-n1-nat", { allocationId: "eipalloc-1", subnetId: "subnet-1", tags: mode("compliant") });
    expect(reported.map((r) => r.policy)).to.deep.equal(["no-internet-path-per-resource"]);
    expect(reported[0].message).to.contain("cn-n1-nat");
  });

  it("lets a secure node create its NAT gateway", () => {
    const outcome = analyze("aws:ec2/natGateway:NatGateway", "cn-n1-nat", { allocationId: "eipalloc-1", subnetId: "subnet-1", tags: mode("secure") });
    expect(outcome.reported).to.deep.equal([]);
    expect(outcome.notApplicable.join()).to.contain("compliant mode only");
  });

  it("refuses a 7-day log group in every mode and an unencrypted one in secure mode", () => {
    const basic = analyze("aws:cloudwatch/logGroup:LogGroup", "cn-n1-logs", { name: "/compute-node/n1", retentionInDays: 7, tags: mode("basic") });
    expect(basic.reported.map((r) => r.policy)).to.deep.equal(["log-retention-30-days-per-resource"]);
    const secure = analyze("aws:cloudwatch/logGroup:LogGroup", "cn-n1-logs", { name: "/compute-node/n1", retentionInDays: 30, tags: mode("secure") });
    expect(secure.reported.map((r) => r.policy)).to.deep.equal(["kms-at-rest-per-resource"]);
  });

  it("refuses an unencrypted EFS file system and a key without rotation in secure mode", () => {
    expect(analyze("aws:efs/fileSystem:FileSystem", "cn-n1-efs", { encrypted: false, tags: mode("secure") }).reported.map((r) => r.policy)).to.deep.equal(["kms-at-rest-per-resource"]);
    expect(analyze("aws:kms/key:Key", "cn-n1-efs-key", { enableKeyRotation: false, tags: mode("compliant") }).reported.map((r) => r.policy)).to.deep.equal(["kms-at-rest-per-resource"]);
    expect(analyze("aws:kms/key:Key", "cn-n1-efs-key", { enableKeyRotation: true, tags: mode("compliant") }).reported).to.deep.equal([]);
  });

  it("refuses a private subnet that maps public IPs and a Lambda processor function in compliant mode", () => {
    expect(analyze("aws:ec2/subnet:Subnet", "cn-n1-private-0", { vpcId: "vpc-1", mapPublicIpOnLaunch: true, tags: mode("compliant") }).reported.map((r) => r.policy)).to.deep.equal(["no-public-ips-per-resource"]);
    const fn = analyze("aws:lambda/function:Function", "proc", { name: "proc-lambda-n1-0123456789ab", tags: mode("compliant") });
    expect(fn.reported.map((r) => r.policy)).to.deep.equal(["no-lambda-processors-per-resource"]);
  });

  it("judges an untagged route by the configured mode, and leaves it alone when no mode is known", () => {
    const route = { routeTableId: "rtb-1", destinationCidrBlock: "0.0.0.0/0", natGatewayId: "nat-0123456789abcdef0" };
    expect(analyze("aws:ec2/route:Route", "out", route, { mode: "compliant" }).reported.map((r) => r.policy)).to.deep.equal(["no-internet-path-per-resource"]);
    const unknown = analyze("aws:ec2/route:Route", "out", route);
    expect(unknown.reported).to.deep.equal([]);
    expect(unknown.notApplicable.join()).to.contain("deployment mode unknown");
  });

  it("leaves cross-resource invariants to the stack policies: a bucket alone is not judged", () => {
    const outcome = analyze("aws:s3/bucket:Bucket", "cn-n1-log-archive", { bucketPrefix: "cn-n1-logs-", tags: mode("compliant") });
    expect(outcome.reported).to.deep.equal([]);
  });

  it("names every resource policy apart from the stack policies (one pack serves both)", () => {
    const names = nodeResourcePolicies().map((p) => p.name);
    expect(new Set([...names, ...nodeStackPolicies().map((p) => p.name)]).size).to.equal(names.length + nodeStackPolicies().length);
    expect(names).to.have.members(["log-retention-30-days-per-resource", "kms-at-rest-per-resource", "no-public-ips-per-resource", "no-internet-path-per-resource", "no-lambda-processors-per-resource", "iam-no-star-actions-per-resource"]);
  });

  it("lets the join role's SendTaskSuccess/SendTaskFailure on every resource through, since it names its actions", () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["states:SendTaskSuccess", "states:SendTaskFailure"], Resource: "*" }] });
    const outcome = analyze("aws:iam/rolePolicy:RolePolicy", "cn-n1-join-role-policy", { role: "cn-n1-join-role", policy }, { mode: "compliant" });
    expect(outcome.reported).to.deep.equal([]);
  });

  it("refuses a joins table without the node's key in compliant mode", () => {
    const table = (serverSideEncryption: Record<string, unknown>) => ({ name: "cn-n1-joins", hashKey: "pk", rangeKey: "sk", serverSideEncryption, tags: mode("compliant") });
    expect(analyze("aws:dynamodb/table:Table", "cn-n1-joins", table({ enabled: true })).reported.map((r) => r.policy)).to.deep.equal(["kms-at-rest-per-resource"]);
    expect(analyze("aws:dynamodb/table:Table", "cn-n1-joins", table({ enabled: true, kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k" })).reported).to.deep.equal([]);
  });

  it('refuses a role policy that allows Action "*" before it is attached, whatever the mode', () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
    const outcome = analyze("aws:iam/rolePolicy:RolePolicy", "cn-n1-finalize-role-policy", { role: "cn-n1-finalize-role", policy }, { mode: "basic" });
    expect(outcome.reported.map((r) => r.policy)).to.deep.equal(["iam-no-star-actions-per-resource"]);
  });
});
