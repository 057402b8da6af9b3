import { DeploymentMode } from "../model/mode";
import { lambdaFunctionPrefix } from "../model/names";
import { noStarActions } from "./iam-star-actions";
import { costAllocationTags } from "./cost-allocation-tags";
import { TAG } from "../model/tags";

/** A resource as the policies see it: a synthesized resource, or one of a stack under `pulumi up --policy-pack`. */
export interface CheckedResource {
  /** Pulumi type token, e.g. `aws:ec2/vpc:Vpc`. */
  type: string;
  /** Logical name. */
  name: string;
  /** Inputs (synth) or properties (a real stack). */
  inputs: Record<string, unknown>;
  /** Physical id, which other resources' inputs use to point at this one. */
  id?: string;
}

export interface PolicyViolation {
  policy: string;
  /** Logical name of the offending resource; absent when the stack as a whole is at fault. */
  resource?: string;
  message: string;
}

/** One mode invariant: a pure function over the resource list. */
export interface NodePolicy {
  name: string;
  description: string;
  /** Modes the invariant applies to. */
  modes: readonly DeploymentMode[];
  check(resources: readonly CheckedResource[], mode: DeploymentMode): PolicyViolation[];
}

const ALL: readonly DeploymentMode[] = ["basic", "secure", "compliant"];
const PROTECTED: readonly DeploymentMode[] = ["secure", "compliant"];

const T = {
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketSse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketSseV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketAcl: "aws:s3/bucketAclV2:BucketAclV2",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  efs: "aws:efs/fileSystem:FileSystem",
  table: "aws:dynamodb/table:Table",
  key: "aws:kms/key:Key",
  secret: "aws:secretsmanager/secret:Secret",
  vpc: "aws:ec2/vpc:Vpc",
  flowLog: "aws:ec2/flowLog:FlowLog",
  subnet: "aws:ec2/subnet:Subnet",
  eip: "aws:ec2/eip:Eip",
  nat: "aws:ec2/natGateway:NatGateway",
  igw: "aws:ec2/internetGateway:InternetGateway",
  eigw: "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
  route: "aws:ec2/route:Route",
  instance: "aws:ec2/instance:Instance",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  ecsService: "aws:ecs/service:Service",
  lambda: "aws:lambda/function:Function",
  vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
} as const;

const ofType = (resources: readonly CheckedResource[], ...types: string[]) => resources.filter((r) => types.includes(r.type));
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

// Inputs point at other resources by id (bucket, vpcId, role); names and ARNs also appear in real stacks.
function refersTo(value: unknown, target: CheckedResource): boolean {
  const s = str(value);
  if (!s) return false;
  return [target.id, str(target.inputs.id), str(target.inputs.bucket), str(target.inputs.name), str(target.inputs.arn)].includes(s);
}

function parseJson(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === "object" && value !== null) return value as Record<string, unknown>;
  if (typeof value !== "string") return undefined;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

interface Statement {
  Effect?: string;
  Action?: unknown;
  Principal?: unknown;
}
const statements = (doc: unknown): Statement[] => list(parseJson(doc)?.Statement) as Statement[];

// Role outputs of a real stack list inline policies (also those of RolePolicy resources), sometimes as one empty entry.
const inlinePolicies = (role: CheckedResource): string[] =>
  list(role.inputs.inlinePolicies)
    .map((p) => str(obj(p).policy))
    .filter((p): p is string => p !== undefined);

const violation = (policy: string, resource: CheckedResource | undefined, message: string): PolicyViolation => ({ policy, resource: resource?.name, message });

export const privateBuckets: NodePolicy = {
  name: "private-buckets",
  description: "Every S3 bucket blocks all public access and grants nothing to everyone.",
  modes: ALL,
  check(resources) {
    const out: PolicyViolation[] = [];
    const blocks = ofType(resources, T.publicAccessBlock);
    for (const bucket of ofType(resources, T.bucket, T.bucketV2)) {
      const block = blocks.find((b) => refersTo(b.inputs.bucket, bucket));
      const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
      const missing = block ? flags.filter((f) => block.inputs[f] !== true) : flags;
      if (missing.length) out.push(violation(this.name, bucket, `bucket "${bucket.name}" does not block public access (${missing.join(", ")} not true)`));
      if (/public|authenticated-read/i.test(String(bucket.inputs.acl ?? ""))) out.push(violation(this.name, bucket, `bucket "${bucket.name}" has ACL "${String(bucket.inputs.acl)}"`));
    }
    for (const acl of ofType(resources, T.bucketAcl)) {
      if (/public|authenticated-read/i.test(String(acl.inputs.acl ?? ""))) out.push(violation(this.name, acl, `bucket ACL "${acl.name}" is "${String(acl.inputs.acl)}"`));
    }
    for (const policy of ofType(resources, T.bucketPolicy)) {
      const open = statements(policy.inputs.policy).some((s) => s.Effect === "Allow" && (s.Principal === "*" || list(obj(s.Principal).AWS).includes("*")));
      if (open) out.push(violation(this.name, policy, `bucket policy "${policy.name}" allows principal "*"`));
    }
    return out;
  },
};

export const logRetention: NodePolicy = {
  name: "log-retention-30-days",
  description: "CloudWatch log groups keep live logs for 30 days (older logs live in the S3 archive).",
  modes: ALL,
  check(resources) {
    return ofType(resources, T.logGroup)
      .filter((g) => g.inputs.retentionInDays !== 30)
      .map((g) => violation(this.name, g, `log group "${g.name}" retains logs for ${String(g.inputs.retentionInDays ?? "ever")} days, expected 30`));
  },
};

const PROCESSOR_ROLE_TAG = TAG.role;

function wildcardActions(doc: unknown): string[] {
  return statements(doc)
    .filter((s) => s.Effect !== "Deny")
    .flatMap((s) => list(s.Action).map(String))
    .filter((a) => a === "*" || a.endsWith(":*"));
}

export const noWildcardProcessorActions: NodePolicy = {
  name: "no-wildcard-processor-actions",
  description: "Policies of processor roles (ECS task role, Lambda processor role) name every action; no `*` or `service:*`.",
  modes: ALL,
  check(resources) {
    const out: PolicyViolation[] = [];
    const processorRoles = ofType(resources, T.role).filter((r) => obj(r.inputs.tags)[PROCESSOR_ROLE_TAG] === "processor");
    for (const role of processorRoles) {
      const docs: { from: CheckedResource; doc: unknown }[] = [
        ...inlinePolicies(role).map((doc) => ({ from: role, doc })),
        ...ofType(resources, T.rolePolicy)
          .filter((p) => refersTo(p.inputs.role, role))
          .map((p) => ({ from: p, doc: p.inputs.policy })),
      ];
      for (const attachment of ofType(resources, T.rolePolicyAttachment).filter((a) => refersTo(a.inputs.role, role))) {
        const managed = ofType(resources, T.policy).find((p) => refersTo(attachment.inputs.policyArn, p));
        if (managed) docs.push({ from: managed, doc: managed.inputs.policy });
        else out.push(violation(this.name, attachment, `processor role "${role.name}" has a policy attached from outside the stack (${String(attachment.inputs.policyArn)}), which cannot be checked`));
      }
      // A real stack's role outputs list every managed policy attached to it, also those attached by hand.
      const attachedArns = ofType(resources, T.rolePolicyAttachment).map((a) => str(a.inputs.policyArn));
      for (const arn of list(role.inputs.managedPolicyArns).map(String)) {
        if (attachedArns.includes(arn)) continue;
        const managed = ofType(resources, T.policy).find((p) => refersTo(arn, p));
        if (managed) docs.push({ from: managed, doc: managed.inputs.policy });
        else out.push(violation(this.name, role, `processor role "${role.name}" has managed policy ${arn} from outside the stack, which cannot be checked`));
      }
      for (const { from, doc } of docs) {
        const wild = wildcardActions(doc);
        if (wild.length) out.push(violation(this.name, from, `processor role "${role.name}" is granted wildcard actions ${wild.map((a) => `"${a}"`).join(", ")}`));
      }
    }
    return out;
  },
};

function sseIsKms(rule: unknown): boolean {
  const by = obj(obj(rule).applyServerSideEncryptionByDefault);
  return String(by.sseAlgorithm).startsWith("aws:kms") && str(by.kmsMasterKeyId) !== undefined;
}

export const kmsAtRest: NodePolicy = {
  name: "kms-at-rest",
  description: "Data at rest (EFS, S3, CloudWatch logs, DynamoDB, secrets) is encrypted with customer-managed KMS keys that rotate.",
  modes: PROTECTED,
  check(resources) {
    const out: PolicyViolation[] = [];
    const v = (r: CheckedResource, what: string) => out.push(violation(this.name, r, `${what} "${r.name}" is not encrypted with a customer-managed KMS key`));
    for (const fs of ofType(resources, T.efs)) if (fs.inputs.encrypted !== true || !str(fs.inputs.kmsKeyId)) v(fs, "EFS file system");
    for (const g of ofType(resources, T.logGroup)) if (!str(g.inputs.kmsKeyId)) v(g, "log group");
    for (const t of ofType(resources, T.table)) {
      const sse = obj(t.inputs.serverSideEncryption);
      if (sse.enabled !== true || !str(sse.kmsKeyArn)) v(t, "DynamoDB table");
    }
    for (const s of ofType(resources, T.secret)) if (!str(s.inputs.kmsKeyId)) v(s, "secret");
    const sseConfigs = ofType(resources, T.bucketSse, T.bucketSseV2);
    for (const bucket of ofType(resources, T.bucket, T.bucketV2)) {
      const inline = list(obj(bucket.inputs.serverSideEncryptionConfiguration).rule);
      const separate = sseConfigs.filter((c) => refersTo(c.inputs.bucket, bucket)).flatMap((c) => list(c.inputs.rules));
      const rules = [...inline, ...separate];
      if (!rules.length || !rules.every(sseIsKms)) v(bucket, "bucket");
    }
    for (const key of ofType(resources, T.key)) {
      if (key.inputs.enableKeyRotation !== true) out.push(violation(this.name, key, `KMS key "${key.name}" does not rotate`));
    }
    return out;
  },
};

export const flowLogs: NodePolicy = {
  name: "vpc-flow-logs",
  description: "Every VPC of the node records all traffic in VPC Flow Logs.",
  modes: PROTECTED,
  check(resources, mode) {
    const vpcs = ofType(resources, T.vpc);
    const logs = ofType(resources, T.flowLog);
    if (!vpcs.length) return [violation(this.name, undefined, `a ${mode} node must run in its own VPC, and the stack has none`)];
    return vpcs
      .filter((vpc) => !logs.some((l) => refersTo(l.inputs.vpcId, vpc) && (l.inputs.trafficType ?? "ALL") === "ALL"))
      .map((vpc) => violation(this.name, vpc, `VPC "${vpc.name}" has no flow log recording ALL traffic`));
  },
};

export const noPublicIps: NodePolicy = {
  name: "no-public-ips",
  description: "Nothing gets a public IP address, except the Elastic IP of a NAT gateway.",
  modes: PROTECTED,
  check(resources) {
    const out: PolicyViolation[] = [];
    const nats = ofType(resources, T.nat);
    for (const s of ofType(resources, T.subnet)) if (s.inputs.mapPublicIpOnLaunch === true) out.push(violation(this.name, s, `subnet "${s.name}" assigns public IPs on launch`));
    for (const eip of ofType(resources, T.eip)) {
      if (!nats.some((n) => refersTo(n.inputs.allocationId, eip))) out.push(violation(this.name, eip, `Elastic IP "${eip.name}" is not a NAT gateway's`));
    }
    for (const i of ofType(resources, T.instance)) if (i.inputs.associatePublicIpAddress === true) out.push(violation(this.name, i, `instance "${i.name}" gets a public IP`));
    for (const lt of ofType(resources, T.launchTemplate)) {
      const pub = list(lt.inputs.networkInterfaces).some((n) => ["true", true].includes(obj(n).associatePublicIpAddress as string | boolean));
      if (pub) out.push(violation(this.name, lt, `launch template "${lt.name}" gives instances public IPs`));
    }
    for (const svc of ofType(resources, T.ecsService)) {
      if (obj(svc.inputs.networkConfiguration).assignPublicIp === true) out.push(violation(this.name, svc, `ECS service "${svc.name}" assigns public IPs`));
    }
    return out;
  },
};

export const noInternetPath: NodePolicy = {
  name: "no-internet-path",
  description: "A compliant node has no internet, egress-only or NAT gateway, and no route to one.",
  modes: ["compliant"],
  check(resources) {
    const out = ofType(resources, T.igw, T.eigw, T.nat).map((g) => violation(this.name, g, `${g.type.split(":").pop()} "${g.name}" gives the node a path to the internet`));
    for (const r of ofType(resources, T.route)) {
      const via = ["gatewayId", "natGatewayId", "egressOnlyGatewayId"].filter((k) => str(r.inputs[k]) && !String(r.inputs[k]).startsWith("vpce-"));
      if (via.length) out.push(violation(this.name, r, `route "${r.name}" leads out through ${via.join(", ")}`));
    }
    return out;
  },
};

export const noLambdaProcessors: NodePolicy = {
  name: "no-lambda-processors",
  description: "A compliant node runs processors on ECS only: its Lambda processor role grants nothing, nothing may invoke `proc-lambda-*`, and no such function is declared.",
  modes: ["compliant"],
  check(resources) {
    const out: PolicyViolation[] = [];
    // The role itself stays (lambdaExecutionRoleArn is a required output); without permissions Lambda cannot attach it to the VPC.
    for (const role of ofType(resources, T.role)) {
      const trustsLambda = statements(role.inputs.assumeRolePolicy).some((s) => list(obj(s.Principal).Service).includes("lambda.amazonaws.com"));
      if (!trustsLambda || obj(role.inputs.tags)[PROCESSOR_ROLE_TAG] !== "processor") continue;
      const grants = inlinePolicies(role).length + list(role.inputs.managedPolicyArns).length + ofType(resources, T.rolePolicy, T.rolePolicyAttachment).filter((p) => refersTo(p.inputs.role, role)).length;
      if (grants) out.push(violation(this.name, role, `Lambda processor role "${role.name}" is granted permissions`));
    }
    for (const p of ofType(resources, T.rolePolicy, T.policy)) {
      const invokes = statements(p.inputs.policy).some(
        (st) => st.Effect !== "Deny" && list(st.Action).some((a) => /^lambda:(Invoke|\*)/.test(String(a)) || a === "*") && list((st as { Resource?: unknown }).Resource).some((r) => String(r).includes(":function:proc-lambda-") || r === "*"),
      );
      if (invokes) out.push(violation(this.name, p, `policy "${p.name}" allows invoking Lambda processors`));
    }
    for (const fn of ofType(resources, T.lambda)) {
      const nodeId = str(obj(fn.inputs.tags)[TAG.node]);
      const name = str(fn.inputs.name) ?? "";
      if (name.startsWith("proc-lambda-") && (!nodeId || name.startsWith(lambdaFunctionPrefix(nodeId)))) out.push(violation(this.name, fn, `function "${name}" is a Lambda processor`));
    }
    return out;
  },
};

// What the runtime calls from inside a compliant VPC (docs/asl-contract.md and the node's Lambdas).
const GATEWAY_SERVICES = ["s3", "dynamodb"] as const;
const INTERFACE_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "states", "ecs", "sts", "kms", "lambda", "elasticfilesystem"] as const;

export const vpcEndpoints: NodePolicy = {
  name: "vpc-endpoints",
  description: "A compliant node reaches every AWS service the runtime calls through a VPC endpoint: S3 and DynamoDB gateways, private-DNS interface endpoints for the rest (Bedrock runtime when a role may invoke models, the ECS agent endpoints when EC2 instances join the cluster).",
  modes: ["compliant"],
  check(resources) {
    const endpoints = ofType(resources, T.vpcEndpoint);
    const service = (e: CheckedResource) => String(e.inputs.serviceName ?? "").replace(/^com\.amazonaws\.[a-z0-9-]+\./, "");
    const has = (svc: string, type: "Gateway" | "Interface") =>
      endpoints.some((e) => service(e) === svc && (e.inputs.vpcEndpointType ?? "Gateway") === type && (type === "Gateway" || e.inputs.privateDnsEnabled === true));
    const usesBedrock = ofType(resources, T.rolePolicy, T.policy).some((p) => statements(p.inputs.policy).some((st) => st.Effect !== "Deny" && list(st.Action).some((a) => String(a).startsWith("bedrock:"))));
    // EC2 container instances (GPU capacity) register through the ECS agent's own endpoints.
    const hasInstances = ofType(resources, T.launchTemplate, T.instance, "aws:ecs/capacityProvider:CapacityProvider").length > 0;
    const interfaces: string[] = [...INTERFACE_SERVICES, ...(usesBedrock ? ["bedrock-runtime"] : []), ...(hasInstances ? ["ecs-agent", "ecs-telemetry"] : [])];
    const missing = [...GATEWAY_SERVICES.filter((svc) => !has(svc, "Gateway")).map((svc) => `${svc} (gateway)`), ...interfaces.filter((svc) => !has(svc, "Interface")).map((svc) => `${svc} (interface, private DNS)`)];
    return missing.length ? [violation(this.name, undefined, `a compliant node has no way to these AWS services without internet: ${missing.join(", ")}`)] : [];
  },
};

/** Every invariant, in the order they are reported. */
export const NODE_POLICIES: readonly NodePolicy[] = [privateBuckets, logRetention, noStarActions, noWildcardProcessorActions, kmsAtRest, flowLogs, noPublicIps, noInternetPath, vpcEndpoints, noLambdaProcessors, costAllocationTags];

/** Runs every policy that applies to `mode` and returns all violations (empty when the node is compliant with its mode). */
export function checkNodePolicies(resources: readonly CheckedResource[], mode: DeploymentMode): PolicyViolation[] {
  return NODE_POLICIES.filter((p) => p.modes.includes(mode)).flatMap((p) => p.check(resources, mode));
}
