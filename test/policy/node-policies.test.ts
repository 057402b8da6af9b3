import { expect } from "chai";
import type { PolicyResource } from "@pulumi/policy";
import { parseNodeConfig } from "../../lib/node/config";
import { SynthResource, synthNode } from "../../lib/node/synth";
import { CheckedResource, PolicyViolation, checkNodePolicies, nodeStackPolicies } from "../../lib/policy";

const clone = (rs: readonly SynthResource[]): SynthResource[] => JSON.parse(JSON.stringify(rs)) as SynthResource[];
const named = (rs: CheckedResource[], name: string) => {
  const r = rs.find((x) => x.name === name);
  expect(r, name).to.not.equal(undefined);
  return r!;
};
const byPolicy = (vs: PolicyViolation[], policy: string) => vs.filter((v) => v.policy === policy);

describe("node policies", function () {
  this.timeout(60000);
  let basic: SynthResource[];
  let secure: SynthResource[];
  let compliant: SynthResource[];
  before(async () => {
    const synth = async (mode: "basic" | "secure" | "compliant") =>
      (await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode, enableLLMAccess: true, baaAcknowledged: true }))).resources;
    basic = await synth("basic");
    secure = await synth("secure");
    compliant = await synth("compliant");
  });

  it("passes every synthesized mode against its own invariants", () => {
    expect(checkNodePolicies(basic, "basic")).to.deep.equal([]);
    expect(checkNodePolicies(secure, "secure")).to.deep.equal([]);
    expect(checkNodePolicies(compliant, "compliant")).to.deep.equal([]);
  });

  it("passes a basic node with its S3 gateway endpoint on the default VPC", () => {
    expect(basic.filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint").map((r) => r.name)).to.deep.equal(["cn-n1-vpce-s3"]);
    expect(checkNodePolicies(basic, "basic")).to.deep.equal([]);
  });

  it("rejects a basic node presented as secure: no KMS, no own VPC, no flow logs", () => {
    const vs = checkNodePolicies(basic, "secure");
    expect(byPolicy(vs, "kms-at-rest").map((v) => v.resource)).to.include.members(["cn-n1-efs", "cn-n1-log-archive", "cn-n1-data-transfer-logs"]);
    expect(byPolicy(vs, "vpc-flow-logs")).to.have.length(1);
    expect(byPolicy(vs, "vpc-flow-logs")[0].message).to.match(/own VPC/);
  });

  it("rejects a secure node presented as compliant: internet and NAT gateways, routes out and Lambda processors", () => {
    const vs = checkNodePolicies(secure, "compliant");
    const internet = byPolicy(vs, "no-internet-path").map((v) => v.resource);
    expect(internet).to.include.members(["cn-n1-igw", "cn-n1-nat", "cn-n1-private-default"]);
    expect(byPolicy(vs, "no-lambda-processors").map((v) => v.resource).sort()).to.deep.equal(["cn-n1-lambda-processor-role", "cn-n1-state-machine-role-policy"]);
  });

  it("flags a log group that keeps logs longer or shorter than 30 days, in every mode", () => {
    const rs = clone(basic);
    named(rs, "cn-n1-data-transfer-logs").inputs.retentionInDays = 7;
    const vs = checkNodePolicies(rs, "basic");
    expect(vs).to.have.length(1);
    expect(vs[0]).to.include({ policy: "log-retention-30-days", resource: "cn-n1-data-transfer-logs" });
    expect(vs[0].message).to.match(/7 days, expected 30/);
  });

  it("flags a bucket whose public access block is missing or partial", () => {
    const partial = clone(basic);
    named(partial, "cn-n1-log-archive-pab").inputs.restrictPublicBuckets = false;
    expect(checkNodePolicies(partial, "basic").map((v) => v.message)).to.deep.equal([`bucket "cn-n1-log-archive" does not block public access (restrictPublicBuckets not true)`]);
    const missing = clone(basic).filter((r) => r.name !== "cn-n1-log-archive-pab");
    expect(byPolicy(checkNodePolicies(missing, "basic"), "private-buckets")).to.have.length(1);
  });

  it("flags a bucket policy that allows everyone", () => {
    const rs = clone(basic);
    named(rs, "cn-n1-log-archive-tls").inputs.policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }] });
    expect(byPolicy(checkNodePolicies(rs, "basic"), "private-buckets").map((v) => v.resource)).to.deep.equal(["cn-n1-log-archive-tls"]);
  });

  it("flags wildcard actions granted to a processor role but not to the node's own roles", () => {
    const rs = clone(secure);
    const grant = (name: string, action: string) => {
      const p = named(rs, name);
      const doc = JSON.parse(String(p.inputs.policy)) as { Statement: unknown[] };
      doc.Statement.push({ Effect: "Allow", Action: [action], Resource: "*" });
      p.inputs.policy = JSON.stringify(doc);
    };
    grant("cn-n1-task-role-policy", "s3:*");
    grant("cn-n1-lambda-processor-role-policy", "*");
    const vs = byPolicy(checkNodePolicies(rs, "secure"), "no-wildcard-processor-actions");
    expect(vs.map((v) => v.resource).sort()).to.deep.equal(["cn-n1-lambda-processor-role-policy", "cn-n1-task-role-policy"]);
    expect(vs.find((v) => v.resource === "cn-n1-task-role-policy")!.message).to.match(/"s3:\*"/);
    // The KMS key policies grant the account root kms:* by design; only processor roles are held to this rule.
    expect(checkNodePolicies(secure, "secure")).to.deep.equal([]);
  });

  it("flags a processor role carrying a managed policy it cannot read, and ignores an empty inline policy entry", () => {
    const rs = clone(secure);
    named(rs, "cn-n1-task-role").inputs.inlinePolicies = [{ name: "", policy: "" }];
    expect(checkNodePolicies(rs, "secure")).to.deep.equal([]);
    named(rs, "cn-n1-task-role").inputs.managedPolicyArns = ["arn:aws:iam::aws:policy/AdministratorAccess"];
    const vs = byPolicy(checkNodePolicies(rs, "secure"), "no-wildcard-processor-actions");
    expect(vs.map((v) => v.resource)).to.deep.equal(["cn-n1-task-role"]);
    expect(vs[0].message).to.contain("AdministratorAccess");
  });

  it("flags unencrypted storage and a key that does not rotate in secure mode", () => {
    const rs = clone(secure);
    delete named(rs, "cn-n1-efs").inputs.kmsKeyId;
    named(rs, "cn-n1-log-archive-sse").inputs.rules = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }];
    named(rs, "cn-n1-efs-key").inputs.enableKeyRotation = false;
    const vs = byPolicy(checkNodePolicies(rs, "secure"), "kms-at-rest");
    expect(vs.map((v) => v.resource).sort()).to.deep.equal(["cn-n1-efs", "cn-n1-efs-key", "cn-n1-log-archive"]);
  });

  it("flags a joins table left on the AWS-owned key in compliant mode, and accepts the join role's SendTask* grant on every resource", () => {
    const rs = clone(compliant);
    named(rs, "cn-n1-joins").inputs.serverSideEncryption = { enabled: true };
    expect(checkNodePolicies(rs, "compliant").map((v) => [v.policy, v.resource])).to.deep.equal([["kms-at-rest", "cn-n1-joins"]]);
    expect(JSON.stringify(named(compliant, "cn-n1-join-role-policy").inputs.policy)).to.include("states:SendTaskSuccess");
  });

  it("flags a VPC without flow logs and subnets or Elastic IPs that hand out public addresses", () => {
    const rs = clone(secure).filter((r) => r.type !== "aws:ec2/flowLog:FlowLog");
    named(rs, "cn-n1-public-0").inputs.mapPublicIpOnLaunch = true;
    rs.push({ type: "aws:ec2/eip:Eip", name: "stray-eip", inputs: { domain: "vpc" }, id: "stray-eip-id" });
    const vs = checkNodePolicies(rs, "secure");
    expect(byPolicy(vs, "vpc-flow-logs").map((v) => v.resource)).to.deep.equal(["cn-n1-vpc"]);
    expect(byPolicy(vs, "no-public-ips").map((v) => v.resource).sort()).to.deep.equal(["cn-n1-public-0", "stray-eip"]);
  });

  it("names every AWS service a compliant node could not reach once an endpoint is missing or lacks private DNS", () => {
    const rs = clone(compliant).filter((r) => r.name !== "cn-n1-vpce-dynamodb" && r.name !== "cn-n1-vpce-bedrock-runtime");
    named(rs, "cn-n1-vpce-states").inputs.privateDnsEnabled = false;
    const vs = byPolicy(checkNodePolicies(rs, "compliant"), "vpc-endpoints");
    expect(vs).to.have.length(1);
    expect(vs[0].message).to.contain("dynamodb (gateway)").and.to.contain("states (interface, private DNS)").and.to.contain("bedrock-runtime");
    expect(vs[0].message).to.not.contain("ecr.api");
  });

  it("asks for no Bedrock endpoint when no role may invoke a model", async () => {
    const { resources } = await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "compliant" }));
    expect(resources.some((r) => r.name === "cn-n1-vpce-bedrock-runtime")).to.equal(false);
    expect(checkNodePolicies(resources, "compliant")).to.deep.equal([]);
  });

  it("requires the ECS agent endpoints once a compliant node has GPU instances, and the node provides them", async () => {
    const { resources } = await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "compliant", gpu: { enabled: true } }));
    expect(checkNodePolicies(resources, "compliant")).to.deep.equal([]);
    const without = resources.filter((r) => r.name !== "cn-n1-vpce-ecs-agent");
    expect(byPolicy(checkNodePolicies(without, "compliant"), "vpc-endpoints")[0].message).to.contain("ecs-agent (interface, private DNS)");
  });

  it("flags a Lambda processor function declared in a compliant stack", () => {
    const rs = clone(compliant);
    rs.push({ type: "aws:lambda/function:Function", name: "p", inputs: { name: "proc-lambda-n1-abcdef012345", tags: { "compute-node:node": "n1" } }, id: "p-id" });
    expect(byPolicy(checkNodePolicies(rs, "compliant"), "no-lambda-processors").map((v) => v.resource)).to.deep.equal(["p"]);
  });
});

describe("nodeStackPolicies", function () {
  this.timeout(60000);
  let secure: SynthResource[];
  before(async () => {
    secure = (await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "secure" }))).resources;
  });

  // What the engine hands a stack policy: outputs as props, with the physical id among them.
  const asStack = (rs: SynthResource[]) => rs.map((r) => ({ type: r.type, name: r.name, urn: `urn:pulumi:dev::compute-node::${r.type}::${r.name}`, props: { ...r.inputs, id: r.id } }) as unknown as PolicyResource);
  const validate = (rs: SynthResource[], config: { mode?: string } = {}) => {
    const reported: { policy: string; message: string; urn?: string }[] = [];
    for (const p of nodeStackPolicies()) {
      const args = { resources: asStack(rs), stackTags: new Map(), getConfig: () => config, notApplicable: () => { throw new Error("n/a"); } };
      void p.validateStack(args as never, (message, urn) => reported.push({ policy: p.name, message, urn }));
    }
    return reported;
  };

  it("reports nothing for a secure node, reading the mode from the resources' tags", () => {
    expect(validate(secure)).to.deep.equal([]);
  });

  it("reports a compliant-mode violation at the offending resource's URN when the config says compliant", () => {
    const reported = validate(secure, { mode: "compliant" });
    const igw = reported.find((r) => r.policy === "no-internet-path" && r.urn?.endsWith("::cn-n1-igw"));
    expect(igw, JSON.stringify(reported)).to.not.equal(undefined);
    expect(igw!.urn).to.equal("urn:pulumi:dev::compute-node::aws:ec2/internetGateway:InternetGateway::cn-n1-igw");
  });

  it("fails closed when the mode can be read neither from config nor from tags", () => {
    const untagged = clone(secure).map((r) => ({ ...r, inputs: { ...r.inputs, tags: undefined } }));
    const reported = validate(untagged);
    expect(reported.length).to.equal(nodeStackPolicies().length);
    expect(reported[0].message).to.match(/deployment mode/);
  });
});
