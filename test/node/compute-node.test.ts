import { expect } from "chai";
import { NodeOutputsSchema } from "../../lib/model/node-outputs";
import { NodeConfigInput, parseNodeConfig } from "../../lib/node/config";
import { SynthResource, SynthResult, synthNode } from "../../lib/node/synth";

const synth = (input: Partial<NodeConfigInput> & { mode: NodeConfigInput["mode"] }) => synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", ...input }));
const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const policyOf = (r: SynthResult, roleSuffix: string) => {
  const policy = r.resources.find((x) => x.type === "aws:iam/rolePolicy:RolePolicy" && x.name === `cn-n1-${roleSuffix}-policy`);
  expect(policy, roleSuffix).to.not.equal(undefined);
  return JSON.parse(String(policy!.inputs.policy)) as { Statement: { Action: string[]; Resource: string | string[] }[] };
};
const actions = (doc: { Statement: { Action: string[] }[] }) => doc.Statement.flatMap((s) => s.Action);

describe("ComputeNode", function () {
  this.timeout(120000);
  let basic: SynthResult;
  let secure: SynthResult;
  let compliant: SynthResult;
  before(async () => {
    basic = await synth({ mode: "basic" });
    secure = await synth({ mode: "secure" });
    compliant = await synth({ mode: "compliant", enableLLMAccess: true, baaAcknowledged: true });
  });

  it("exports every stack output the runtime reads, in every mode, and nothing secret", () => {
    for (const r of [basic, secure, compliant]) {
      const parsed = NodeOutputsSchema.safeParse(r.outputs);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
      // The tokens function's ARN names it; no output holds a token.
      expect(JSON.stringify({ ...r.outputs, tokensFunctionArn: undefined })).to.not.match(/token|password|secretString/i);
    }
    expect(basic.outputs.deploymentMode).to.equal("basic");
    expect(compliant.outputs.deploymentMode).to.equal("compliant");
  });

  it("deploys through an AWS provider pinned to the node's region", async () => {
    const eu = await synth({ mode: "basic", region: "eu-central-1" });
    expect(ofType(eu, "pulumi:providers:aws").map((p) => p.inputs.region)).to.deep.equal(["eu-central-1"]);
    expect(eu.outputs.region).to.equal("eu-central-1");
  });

  it("runs basic mode in the default VPC's public subnets with no KMS keys and no flow logs", () => {
    expect(ofType(basic, "aws:ec2/vpc:Vpc")).to.have.length(0);
    expect(ofType(basic, "aws:kms/key:Key")).to.have.length(0);
    expect(ofType(basic, "aws:ec2/flowLog:FlowLog")).to.have.length(0);
    expect(basic.outputs.subnetIds).to.deep.equal(["subnet-0default00000000a", "subnet-0default00000000b"]);
    expect(basic.outputs.assignPublicIp).to.equal(true);
    expect(ofType(basic, "aws:efs/mountTarget:MountTarget").map((m) => m.inputs.subnetId)).to.deep.equal(basic.outputs.subnetIds);
  });

  it("creates an S3 gateway endpoint on the default VPC's route table in basic mode", () => {
    const endpoints = ofType(basic, "aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints).to.have.length(1);
    expect(endpoints[0].name).to.equal("cn-n1-vpce-s3");
    expect(endpoints[0].inputs).to.include({ vpcId: "vpc-0default0000000000", serviceName: "com.amazonaws.us-east-1.s3", vpcEndpointType: "Gateway" });
    // The mock's default subnets have no explicit association, so they use the VPC's main route table.
    expect(endpoints[0].inputs.routeTableIds).to.deep.equal(["rtb-0defaultmain00000"]);
    expect(endpoints[0].inputs.tags).to.include({ "compute-node:node": "n1", "compute-node:environment": "dev", "compute-node:mode": "basic", Name: "cn-n1-vpce-s3" });
    expect(endpoints[0].inputs.policy).to.equal(undefined);
  });

  it("creates no S3 endpoint in basic mode when the account already has one (s3GatewayEndpoint: existing)", async () => {
    const shared = await synth({ mode: "basic", s3GatewayEndpoint: "existing" });
    expect(ofType(shared, "aws:ec2/vpcEndpoint:VpcEndpoint")).to.have.length(0);
    expect(shared.outputs.subnetIds).to.deep.equal(basic.outputs.subnetIds);
  });

  it("creates no S3 gateway endpoint in secure mode", () => {
    expect(ofType(secure, "aws:ec2/vpcEndpoint:VpcEndpoint")).to.have.length(0);
    // Compliant mode keeps exactly its own S3 gateway, on its private route table.
    const s3 = ofType(compliant, "aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs.serviceName === "com.amazonaws.us-east-1.s3");
    expect(s3.map((e) => [e.name, e.inputs.routeTableIds])).to.deep.equal([["cn-n1-vpce-s3", ["cn-n1-private-rt-id"]]]);
  });

  it("gives secure mode a dedicated VPC over two zones with private subnets behind a NAT gateway, flow logs and rotating keys", () => {
    const subnets = ofType(secure, "aws:ec2/subnet:Subnet");
    const tier = (s: SynthResource) => (s.inputs.tags as Record<string, string>)["compute-node:tier"];
    expect(subnets.filter((s) => tier(s) === "private").map((s) => s.inputs.availabilityZone)).to.have.members(["us-east-1a", "us-east-1b"]);
    expect(subnets.filter((s) => tier(s) === "public")).to.have.length(2);
    expect(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false)).to.equal(true);
    expect(ofType(secure, "aws:ec2/natGateway:NatGateway")).to.have.length(1);
    expect(ofType(secure, "aws:ec2/route:Route")[0].inputs).to.include({ destinationCidrBlock: "0.0.0.0/0", natGatewayId: "cn-n1-nat-id" });
    expect(ofType(secure, "aws:ec2/flowLog:FlowLog")[0].inputs).to.include({ trafficType: "ALL" });
    const keys = ofType(secure, "aws:kms/key:Key");
    expect(keys.map((k) => k.name)).to.have.members(["cn-n1-efs-key", "cn-n1-s3-key", "cn-n1-logs-key", "cn-n1-secrets-key"]);
    expect(keys.every((k) => k.inputs.enableKeyRotation === true)).to.equal(true);
    expect(secure.outputs.subnetIds).to.deep.equal(["cn-n1-private-0-id", "cn-n1-private-1-id"]);
    expect(secure.outputs.assignPublicIp).to.equal(false);
  });

  it("encrypts EFS, logs, the archive bucket and tables with the node's keys in secure mode", () => {
    expect(ofType(secure, "aws:efs/fileSystem:FileSystem")[0].inputs).to.include({ encrypted: true, kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/cn-n1-efs-key" });
    for (const group of ofType(secure, "aws:cloudwatch/logGroup:LogGroup")) expect(group.inputs.kmsKeyId, group.name).to.be.a("string");
    const sse = ofType(secure, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0].inputs.rules as { applyServerSideEncryptionByDefault: Record<string, string> }[];
    expect(sse[0].applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("aws:kms");
    for (const table of ofType(secure, "aws:dynamodb/table:Table")) expect((table.inputs.serverSideEncryption as { kmsKeyArn?: string }).kmsKeyArn).to.be.a("string");
  });

  it("reuses a shared NAT gateway instead of creating one when configured", async () => {
    const shared = await synth({ mode: "secure", existingNatGatewayId: "nat-0123456789abcdef0" });
    expect(ofType(shared, "aws:ec2/natGateway:NatGateway")).to.have.length(0);
    expect(ofType(shared, "aws:ec2/eip:Eip")).to.have.length(0);
    expect(ofType(shared, "aws:ec2/route:Route")[0].inputs.natGatewayId).to.equal("nat-0123456789abcdef0");
  });

  it("gives compliant mode no way to the internet and an endpoint for every service the runtime calls", () => {
    for (const type of ["aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway", "aws:ec2/eip:Eip", "aws:ec2/route:Route"]) expect(ofType(compliant, type), type).to.have.length(0);
    const endpoints = ofType(compliant, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => [String(e.inputs.serviceName).replace("com.amazonaws.us-east-1.", ""), e.inputs.vpcEndpointType]);
    expect(endpoints).to.deep.include.members([
      ["s3", "Gateway"],
      ["dynamodb", "Gateway"],
      ...["ecr.api", "ecr.dkr", "logs", "secretsmanager", "states", "ecs", "sts", "kms", "lambda", "elasticfilesystem", "bedrock-runtime"].map((s) => [s, "Interface"]),
    ]);
    const processorsSg = ofType(compliant, "aws:ec2/securityGroup:SecurityGroup").find((g) => g.name === "cn-n1-processors-sg")!;
    expect(JSON.stringify(processorsSg.inputs.egress)).to.not.include("0.0.0.0/0");
  });

  it("adds the Bedrock endpoint only when LLM access is on", async () => {
    const withoutLlm = await synth({ mode: "compliant" });
    expect(ofType(withoutLlm, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => e.inputs.serviceName)).to.not.include("com.amazonaws.us-east-1.bedrock-runtime");
    expect(ofType(withoutLlm, "aws:dynamodb/table:Table").map((t) => t.name)).to.not.include("cn-n1-llm-usage");
  });

  it("creates the LLM governor with a usage table encrypted by the node's key", () => {
    const table = ofType(compliant, "aws:dynamodb/table:Table").find((t) => t.name === "cn-n1-llm-usage")!;
    expect((table.inputs.serverSideEncryption as { enabled: boolean; kmsKeyArn: string }).kmsKeyArn).to.match(/key\/cn-n1-s3-key$/);
    const governor = ofType(compliant, "aws:lambda/function:Function").find((f) => f.name === "cn-n1-llm-governor")!;
    expect((governor.inputs.environment as { variables: Record<string, string> }).variables.USAGE_TABLE).to.equal("cn-n1-llm-usage");
    expect(actions(policyOf(compliant, "task-role"))).to.include("lambda:InvokeFunction");
  });

  it("keeps a private log archive: all public access blocked, Glacier after 90 days, expiry after 7 years", () => {
    for (const r of [basic, secure, compliant]) {
      expect(ofType(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      const rule = (ofType(r, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").find((x) => x.name.includes("log-archive"))!.inputs.rules as Record<string, unknown>[])[0];
      expect(rule.transitions).to.deep.equal([{ days: 90, storageClass: "GLACIER" }]);
      expect(rule.expiration).to.deep.equal({ days: 2555 });
      for (const group of ofType(r, "aws:cloudwatch/logGroup:LogGroup")) expect(group.inputs.retentionInDays, group.name).to.equal(30);
    }
  });

  it("scopes the Step Functions role to this node's task definitions, functions, secrets and machines", () => {
    const doc = policyOf(basic, "state-machine-role");
    const resources = (sid: string) => (doc.Statement as { Sid?: string; Resource: string | string[] }[]).find((s) => s.Sid === sid)!.Resource;
    expect(resources("RunProcessorTasks")).to.equal("arn:aws:ecs:us-east-1:123456789012:task-definition/cn-n1-*");
    expect(resources("ReadExecutionTokens")).to.equal("arn:aws:secretsmanager:us-east-1:123456789012:secret:cn/n1/*");
    expect(resources("InvokeNodeLambdas")).to.deep.equal(["arn:aws:lambda:us-east-1:123456789012:function:proc-lambda-n1-*", "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-*"]);
  });

  it("lets finalize read the execution table, this node's execution histories and map runs, and delete only this node's token secrets", () => {
    const doc = policyOf(secure, "finalize-role") as { Statement: { Action: string[]; Resource: string | string[] }[] };
    const grant = (action: string) => doc.Statement.filter((s) => s.Action.includes(action)).flatMap((s) => [s.Resource].flat());
    expect(grant("secretsmanager:DeleteSecret")).to.deep.equal(["arn:aws:secretsmanager:us-east-1:123456789012:secret:cn/n1/*"]);
    expect(grant("dynamodb:GetItem")).to.have.length(1).and.to.match(/cn-n1-executions$/);
    expect(grant("secretsmanager:GetSecretValue")).to.deep.equal([]);
    // The execution's history (map-run iterations are `execution:<machine>/<label>:<id>`) and its map runs' iterations.
    expect(grant("states:GetExecutionHistory")).to.deep.equal(["arn:aws:states:us-east-1:123456789012:execution:cn-n1-*"]);
    expect(grant("states:ListExecutions")).to.deep.equal(["arn:aws:states:us-east-1:123456789012:mapRun:cn-n1-*"]);
    // DescribeExecution: the stop rule's events may lack the input that names the run.
    expect(grant("states:DescribeExecution")).to.deep.equal(["arn:aws:states:us-east-1:123456789012:execution:cn-n1-*"]);
    expect(doc.Statement.flatMap((st) => st.Action).filter((a) => a.startsWith("states:")).sort()).to.deep.equal(["states:DescribeExecution", "states:GetExecutionHistory", "states:ListExecutions"]);
  });

  it("gives the join function only UpdateItem/GetItem/PutItem/Query on the joins table and SendTaskSuccess/SendTaskFailure", () => {
    const doc = policyOf(basic, "join-role") as { Statement: { Action: string[]; Resource: string | string[] }[] };
    const table = ofType(basic, "aws:dynamodb/table:Table").find((t) => t.name === "cn-n1-joins")!;
    const grants = doc.Statement.map((st) => ({ actions: [...st.Action].sort(), resource: st.Resource }));
    expect(grants).to.deep.equal([
      { actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/cn-n1-join*" },
      { actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"], resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${table.inputs.name}` },
      { actions: ["states:SendTaskFailure", "states:SendTaskSuccess"], resource: "*" },
    ]);
    // Outside basic mode it also joins the VPC (ENI actions) and reads the keys of its table and environment, nothing else.
    const extra = actions(policyOf(compliant, "join-role")).filter((a) => !grants.some((g) => g.actions.includes(a)));
    expect(extra.every((a) => a.startsWith("ec2:") || a.startsWith("kms:")), extra.join(", ")).to.equal(true);
    expect(JSON.stringify(policyOf(compliant, "join-role"))).to.not.match(/secretsmanager|s3:|elasticfilesystem|lambda:/);
  });

  it("lets the state machine role invoke the join function", () => {
    for (const r of [basic, compliant]) {
      const invoke = (policyOf(r, "state-machine-role").Statement as { Sid?: string; Action: string[]; Resource: string | string[] }[]).find((st) => st.Sid === "InvokeNodeLambdas")!;
      expect(invoke.Action).to.deep.equal(["lambda:InvokeFunction"]);
      const covers = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(String(r.outputs.joinFunctionArn));
      expect([invoke.Resource].flat().some(covers), String(r.outputs.joinFunctionArn)).to.equal(true);
    }
  });

  it("encrypts the joins table with the node key in secure mode", () => {
    const sse = (r: SynthResult) => ofType(r, "aws:dynamodb/table:Table").find((t) => t.name === "cn-n1-joins")!.inputs.serverSideEncryption;
    expect(sse(secure)).to.deep.equal({ enabled: true, kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/cn-n1-s3-key" });
    expect(sse(basic)).to.deep.equal({ enabled: true });
  });

  it("enables TTL on the joins table, keyed by pk and sk and billed on demand", () => {
    const table = ofType(secure, "aws:dynamodb/table:Table").find((t) => t.name === "cn-n1-joins")!.inputs;
    expect(table.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
    expect(table).to.include({ name: "cn-n1-joins", billingMode: "PAY_PER_REQUEST", hashKey: "pk", rangeKey: "sk" });
    expect(table.attributes).to.deep.equal([{ name: "pk", type: "S" }, { name: "sk", type: "S" }]);
  });

  it("exports joinFunctionArn and joinTableName, and points the join function at that table", () => {
    for (const r of [basic, secure, compliant]) {
      const join = ofType(r, "aws:lambda/function:Function").find((f) => f.name === "cn-n1-join")!.inputs;
      expect(r.outputs.joinFunctionArn).to.equal("arn:aws:lambda:us-east-1:123456789012:function:cn-n1-join");
      expect(r.outputs.joinTableName).to.equal("cn-n1-joins");
      expect(join).to.include({ handler: "lib/integrations/join/lambda.handler", timeout: 60, memorySize: 256 });
      expect((join.environment as { variables: Record<string, string> }).variables).to.deep.equal({ JOIN_TABLE: "cn-n1-joins" });
      expect(join.fileSystemConfig).to.equal(undefined);
    }
  });

  it("grants Lambda processors nothing in compliant mode and keeps Step Functions from invoking them", () => {
    const policies = compliant.resources.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy").map((r) => r.name);
    expect(policies).to.not.include("cn-n1-lambda-processor-policy");
    expect(JSON.stringify(policyOf(compliant, "state-machine-role"))).to.not.include("proc-lambda-");
    expect(JSON.stringify(policyOf(secure, "state-machine-role"))).to.include("function:proc-lambda-n1-*");
    expect(compliant.outputs.lambdaExecutionRoleArn).to.be.a("string");
  });

  it("lets Lambda processors write to the node's log group, where finalize archives from", () => {
    const doc = policyOf(secure, "lambda-processor-role");
    expect(doc.Statement.flatMap((s) => [s.Resource].flat())).to.include("arn:aws:logs:us-east-1:123456789012:log-group:/compute-node/n1:*");
  });

  it("encrypts the node Lambdas' environment with the node's secrets key outside basic mode", () => {
    const fn = (r: SynthResult, kind: string) => ofType(r, "aws:lambda/function:Function").find((f) => f.name === `cn-n1-${kind}`)!;
    for (const kind of ["data-transfer", "finalize", "join"]) {
      expect(fn(secure, kind).inputs.kmsKeyArn, kind).to.match(/key\/cn-n1-secrets-key$/);
      expect(fn(basic, kind).inputs.kmsKeyArn, kind).to.equal(undefined);
    }
  });

  it("mounts EFS only in the data-transfer Lambda and keeps finalize out of basic mode's default subnets, which reach only S3", () => {
    const fn = (r: SynthResult, kind: string) => ofType(r, "aws:lambda/function:Function").find((f) => f.name === `cn-n1-${kind}`)!.inputs;
    for (const r of [basic, secure, compliant]) {
      expect(fn(r, "data-transfer").fileSystemConfig).to.deep.include({ localMountPath: "/mnt/efs" });
      expect(fn(r, "data-transfer").vpcConfig).to.not.equal(undefined);
      expect(fn(r, "finalize").fileSystemConfig).to.equal(undefined);
    }
    for (const kind of ["finalize", "join"]) {
      expect(fn(basic, kind).vpcConfig, kind).to.equal(undefined);
      expect((fn(compliant, kind).vpcConfig as { subnetIds: string[] }).subnetIds, kind).to.deep.equal(compliant.outputs.subnetIds);
    }
  });

  it("lets only the data-transfer function put objects in the configured output buckets and prefixes, and exports them", async () => {
    expect(actions(policyOf(secure, "data-transfer-role"))).to.not.include("s3:PutObject");
    const withOutputs = await synth({ mode: "secure", outputBucketArns: ["arn:aws:s3:::results", "arn:aws:s3:::shared/pennsieve/"] });
    const upload = policyOf(withOutputs, "data-transfer-role").Statement.filter((st) => st.Action.includes("s3:PutObject"));
    expect(upload).to.have.length(1);
    expect(upload[0].Action).to.deep.equal(["s3:PutObject", "s3:AbortMultipartUpload"]);
    expect(upload[0].Resource).to.deep.equal(["arn:aws:s3:::results/*", "arn:aws:s3:::shared/pennsieve/*"]);
    expect(withOutputs.outputs.outputBucketArns).to.deep.equal(["arn:aws:s3:::results", "arn:aws:s3:::shared/pennsieve/"]);
    for (const role of ["task-role", "finalize-role", "tokens-role"])
      expect(JSON.stringify(policyOf(withOutputs, role)), role).to.not.include("arn:aws:s3:::results");
  });

  it("refuses an output bucket ARN with a wildcard", () => {
    expect(() => parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "secure", outputBucketArns: ["arn:aws:s3:::results/*"] })).to.throw(/outputBucketArns/);
  });

  it("gives each role only the customer-managed keys it encrypts or decrypts with", () => {
    const keysOf = (role: string) =>
      (policyOf(secure, role).Statement as { Action: string[]; Resource: string | string[] }[])
        .filter((st) => st.Action.includes("kms:Decrypt"))
        .flatMap((st) => [st.Resource].flat())
        .map((arn) => arn.replace(/^.*key\/cn-n1-/, ""));
    expect(keysOf("state-machine-role")).to.deep.equal(["secrets-key"]);
    expect(keysOf("data-transfer-role")).to.deep.equal(["secrets-key"]);
    expect(keysOf("finalize-role")).to.deep.equal(["s3-key", "secrets-key"]);
    expect(keysOf("join-role")).to.deep.equal(["s3-key", "secrets-key"]);
    // The ECS agent decrypts the execution's environment file (its tokens), encrypted with the S3 key.
    expect(keysOf("task-execution-role")).to.deep.equal(["s3-key"]);
    expect(keysOf("tokens-role")).to.deep.equal(["s3-key", "secrets-key"]);
    expect(keysOf("task-role")).to.deep.equal([]);
  });

  it("deletes the runtime's resources before the subnets, security groups and EFS they attach to", () => {
    for (const r of [secure, compliant]) {
      const hook = r.resources.find((x) => x.type === "pulumi-nodejs:dynamic:Resource")!;
      // Processors and Lambdas attach to the private subnets only; the public ones hold just the NAT gateway.
      const processorSubnet = (x: SynthResource) => x.type === "aws:ec2/subnet:Subnet" && (x.inputs.tags as Record<string, string>)["compute-node:tier"] === "private";
      const mustFollow = r.resources.filter((x) => processorSubnet(x) || ["aws:ec2/securityGroup:SecurityGroup", "aws:efs/mountTarget:MountTarget", "aws:efs/accessPoint:AccessPoint", "aws:ecs/cluster:Cluster"].includes(x.type));
      expect(mustFollow.length).to.be.greaterThan(5);
      expect(hook.dependencies).to.include.members(mustFollow.map((x) => x.name));
      expect(hook.inputs).to.include({ computeNodeId: "n1", region: "us-east-1", force: false });
    }
  });

  it("gives processor roles no wildcard action", () => {
    for (const role of ["task-role", "lambda-processor-role"]) for (const action of actions(policyOf(secure, role))) expect(action, role).to.not.match(/(^\*$|:\*$)/);
  });

  it("tags every taggable resource for cost allocation with node, environment and mode", () => {
    const taggable = secure.resources.filter((r) => r.inputs.tags !== undefined && r.type !== "aws:autoscaling/group:Group");
    expect(taggable.length).to.be.greaterThan(20);
    for (const r of taggable) expect(r.inputs.tags, r.name).to.include({ "compute-node:node": "n1", "compute-node:environment": "dev", "compute-node:mode": "secure" });
  });

  it("gives GPU instances a way to the ECS agent's endpoints: a public IP in basic mode, agent endpoints in compliant mode, neither in secure mode", async () => {
    const gpu = { enabled: true, instanceType: "g4dn.xlarge", maxInstances: 2 };
    const [basicGpu, secureGpu, compliantGpu] = await Promise.all([synth({ mode: "basic", gpu }), synth({ mode: "secure", gpu }), synth({ mode: "compliant", gpu })]);
    const publicIp = (r: SynthResult) => (ofType(r, "aws:ec2/launchTemplate:LaunchTemplate")[0].inputs.networkInterfaces as { associatePublicIpAddress: string }[])[0].associatePublicIpAddress;
    expect([publicIp(basicGpu), publicIp(secureGpu), publicIp(compliantGpu)]).to.deep.equal(["true", "false", "false"]);
    const endpoints = ofType(compliantGpu, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => e.inputs.serviceName);
    expect(endpoints).to.include.members(["com.amazonaws.us-east-1.ecs-agent", "com.amazonaws.us-east-1.ecs-telemetry"]);
    expect(ofType(compliant, "aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => e.inputs.serviceName)).to.not.include("com.amazonaws.us-east-1.ecs-agent");
  });

  it("adds an autoscaled g4dn capacity provider that is the cluster default when GPU capacity is on", async () => {
    const gpu = await synth({ mode: "secure", gpu: { enabled: true, instanceType: "g4dn.2xlarge", maxInstances: 3 } });
    expect(ofType(gpu, "aws:ec2/launchTemplate:LaunchTemplate")[0].inputs).to.include({ instanceType: "g4dn.2xlarge", imageId: "ami-0gpu00000000000000" });
    const capacity = ofType(gpu, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")[0].inputs;
    expect(capacity.capacityProviders).to.include("cn-n1-gpu");
    expect((capacity.defaultCapacityProviderStrategies as { capacityProvider: string }[])[0].capacityProvider).to.equal("cn-n1-gpu");
  });
});
