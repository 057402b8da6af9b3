import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "./config";
import { TAG } from "../model/tags";

export interface NodeNetwork {
  vpcId: pulumi.Output<string>;
  vpcCidr: pulumi.Output<string>;
  /** Where processors, Lambdas and EFS mount targets live. */
  subnetIds: pulumi.Output<string[]>;
  processorSecurityGroup: aws.ec2.SecurityGroup;
  efsSecurityGroup: aws.ec2.SecurityGroup;
  /** How many subnets: known at plan time so each gets its own EFS mount target. */
  subnetCount: number;
  /** Basic mode's public subnets give Fargate tasks a public IP (their only way out). */
  assignPublicIp: boolean;
  /** Resources a Lambda ENI can block the deletion of: the destroy hook must go before them. */
  attachments: pulumi.Resource[];
}

const BASIC_SUBNETS = 2;

// Private subnets take blocks 0–5 of the VPC (up to 6 zones), public ones 8–13: a change of
// availabilityZones adds or removes subnets without moving (replacing) the others.
const PUBLIC_SUBNET_OFFSET = 8;

// Interface endpoints the runtime calls in compliant mode (no other way out of the VPC).
const INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "logs", "secretsmanager", "states", "ecs", "sts", "kms", "lambda", "elasticfilesystem"] as const;

/** The network of a node: the default VPC (basic, with an S3 gateway endpoint unless the VPC has one) or a dedicated one (secure: public + private behind NAT; compliant: private only + endpoints). */
export function createNetwork(name: string, config: NodeConfig, tags: Record<string, string>, parent: pulumi.Resource, kmsKeyArn?: pulumi.Input<string>): NodeNetwork {
  const opts = { parent };
  if (config.mode === "basic") {
    const vpc = pulumi.output(aws.ec2.getVpc({ default: true }, opts));
    const subnets = vpc.apply((v) => aws.ec2.getSubnets({ filters: [{ name: "vpc-id", values: [v.id] }, { name: "default-for-az", values: ["true"] }] }, opts));
    const groups = securityGroups(name, vpc.id, vpc.cidrBlock, tags, parent, { internetEgress: true });
    // Two default subnets (two zones) is every region's minimum; using exactly two keeps one EFS mount target per subnet.
    const subnetIds = subnets.ids.apply((ids) => [...ids].sort().slice(0, BASIC_SUBNETS));
    if ((config.s3GatewayEndpoint ?? "create") === "create") defaultVpcS3Endpoint(name, config.region, vpc, subnetIds, tags, parent);
    return { vpcId: vpc.id, vpcCidr: vpc.cidrBlock, subnetIds, subnetCount: BASIC_SUBNETS, ...groups, assignPublicIp: true, attachments: [groups.processorSecurityGroup, groups.efsSecurityGroup] };
  }

  const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: config.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { ...tags, Name: `${name}-vpc` } }, opts);
  const zones = pulumi.output(aws.getAvailabilityZones({ state: "available" }, opts)).names.apply((n) => n.slice(0, config.availabilityZones));
  const zoneIndexes = [...Array(config.availabilityZones).keys()];
  const privateSubnets = zoneIndexes.map(
    (i) =>
      new aws.ec2.Subnet(
        `${name}-private-${i}`,
        { vpcId: vpc.id, cidrBlock: subnetCidr(config.vpcCidr, i), availabilityZone: zones[i], mapPublicIpOnLaunch: false, tags: { ...tags, Name: `${name}-private-${i}`, [TAG.tier]: "private" } },
        opts,
      ),
  );
  const privateRoutes = new aws.ec2.RouteTable(`${name}-private-rt`, { vpcId: vpc.id, tags: { ...tags, Name: `${name}-private-rt` } }, opts);
  privateSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-private-rta-${i}`, { subnetId: s.id, routeTableId: privateRoutes.id }, opts));
  const groups = securityGroups(name, vpc.id, vpc.cidrBlock, tags, parent, { internetEgress: config.mode === "secure" });
  const attachments: pulumi.Resource[] = [...privateSubnets, groups.processorSecurityGroup, groups.efsSecurityGroup];

  if (config.mode === "secure") {
    const publicSubnets = zoneIndexes.map(
      (i) =>
        new aws.ec2.Subnet(
          `${name}-public-${i}`,
          // The public subnets host only the NAT gateway: nothing launched there gets a public IP by default.
          { vpcId: vpc.id, cidrBlock: subnetCidr(config.vpcCidr, PUBLIC_SUBNET_OFFSET + i), availabilityZone: zones[i], mapPublicIpOnLaunch: false, tags: { ...tags, Name: `${name}-public-${i}`, [TAG.tier]: "public" } },
          opts,
        ),
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { ...tags, Name: `${name}-igw` } }, opts);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { ...tags, Name: `${name}-public-rt` } }, opts);
    publicSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-rta-${i}`, { subnetId: s.id, routeTableId: publicRoutes.id }, opts));
    let natGatewayId: pulumi.Input<string>;
    if (config.existingNatGatewayId) natGatewayId = config.existingNatGatewayId;
    else {
      const eip = new aws.ec2.Eip(`${name}-nat-eip`, { domain: "vpc", tags: { ...tags, Name: `${name}-nat-eip` } }, opts);
      natGatewayId = new aws.ec2.NatGateway(`${name}-nat`, { allocationId: eip.id, subnetId: publicSubnets[0].id, tags: { ...tags, Name: `${name}-nat` } }, { parent, dependsOn: [igw] }).id;
    }
    new aws.ec2.Route(`${name}-private-default`, { routeTableId: privateRoutes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId }, opts);
  } else {
    const endpointSg = new aws.ec2.SecurityGroup(
      `${name}-endpoints-sg`,
      {
        vpcId: vpc.id,
        description: "HTTPS from the node's processors and Lambdas to AWS service endpoints",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [groups.processorSecurityGroup.id], description: "processors" }],
        tags: { ...tags, Name: `${name}-endpoints-sg` },
      },
      opts,
    );
    for (const service of ["s3", "dynamodb"])
      new aws.ec2.VpcEndpoint(`${name}-vpce-${service}`, { vpcId: vpc.id, serviceName: `com.amazonaws.${config.region}.${service}`, vpcEndpointType: "Gateway", routeTableIds: [privateRoutes.id], tags: { ...tags, Name: `${name}-vpce-${service}` } }, opts);
    // GPU container instances run the ECS agent, which talks to its own endpoints besides the ECS API.
    const services: string[] = [...INTERFACE_ENDPOINTS, ...(config.enableLLMAccess ? ["bedrock-runtime"] : []), ...(config.gpu.enabled ? ["ecs-agent", "ecs-telemetry"] : [])];
    for (const service of services)
      new aws.ec2.VpcEndpoint(
        `${name}-vpce-${service.replace(/\./g, "-")}`,
        {
          vpcId: vpc.id,
          serviceName: `com.amazonaws.${config.region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: privateSubnets.map((s) => s.id),
          securityGroupIds: [endpointSg.id],
          tags: { ...tags, Name: `${name}-vpce-${service}` },
        },
        opts,
      );
    attachments.push(endpointSg);
  }

  const flowLogGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, { name: `/compute-node/${config.computeNodeId}/vpc-flow-logs`, retentionInDays: 30, kmsKeyId: kmsKeyArn, tags }, opts);
  const flowRole = new aws.iam.Role(`${name}-flow-logs-role`, { assumeRolePolicy: assumeRole("vpc-flow-logs.amazonaws.com"), tags }, opts);
  new aws.iam.RolePolicy(
    `${name}-flow-logs-policy`,
    {
      role: flowRole.id,
      policy: flowLogGroup.arn.apply((arn) =>
        JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [arn, `${arn}:*`] }] }),
      ),
    },
    opts,
  );
  new aws.ec2.FlowLog(`${name}-flow-log`, { vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: flowLogGroup.arn, iamRoleArn: flowRole.arn, tags }, opts);

  return { vpcId: vpc.id, vpcCidr: vpc.cidrBlock, subnetIds: pulumi.all(privateSubnets.map((s) => s.id)), subnetCount: privateSubnets.length, ...groups, assignPublicIp: false, attachments };
}

/**
 * Basic mode's way to S3 from the default VPC, where a VPC Lambda (data-transfer, which must mount EFS)
 * gets no public IP and there is no NAT: a gateway endpoint adds an S3 prefix-list route to the route
 * tables of the node's subnets. Same-region buckets only, as for every gateway endpoint.
 */
function defaultVpcS3Endpoint(name: string, region: string, vpc: pulumi.Output<aws.ec2.GetVpcResult>, subnetIds: pulumi.Output<string[]>, tags: Record<string, string>, parent: pulumi.Resource): aws.ec2.VpcEndpoint {
  const opts = { parent };
  const routeTableIds = pulumi.all([vpc, subnetIds]).apply(async ([v, ids]) => {
    // One query per subnet: a subnet's explicit association, if any, is the only result.
    const explicit = await Promise.all(ids.map((id) => aws.ec2.getRouteTables({ vpcId: v.id, filters: [{ name: "association.subnet-id", values: [id] }] }, opts)));
    return subnetRouteTableIds(v.mainRouteTableId, explicit.map((r) => r.ids));
  });
  return new aws.ec2.VpcEndpoint(
    `${name}-vpce-s3`,
    {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds,
      // The default full-access policy, on purpose: the route carries every S3 request from these route
      // tables, not just the node's. Fargate pulls ECR image layers from AWS-owned S3 buckets, processors
      // may read any bucket, and other workloads of the account share the default VPC; a policy naming
      // only the inputs and archive buckets would cut them off. IAM still scopes what the node may do.
      tags: { ...tags, Name: `${name}-vpce-s3` },
    },
    opts,
  );
}

/** The route tables subnets use: each one's explicitly associated table, or else the VPC's main one (sorted, unique). */
export function subnetRouteTableIds(mainRouteTableId: string, explicitPerSubnet: readonly (readonly string[] | undefined)[]): string[] {
  return [...new Set(explicitPerSubnet.map((ids) => ids?.[0] ?? mainRouteTableId))].sort();
}

function securityGroups(name: string, vpcId: pulumi.Input<string>, vpcCidr: pulumi.Input<string>, tags: Record<string, string>, parent: pulumi.Resource, { internetEgress }: { internetEgress: boolean }) {
  const opts = { parent };
  const processorSecurityGroup = new aws.ec2.SecurityGroup(
    `${name}-processors-sg`,
    {
      vpcId,
      description: "Processors, data-transfer and finalize Lambdas of the node: no inbound traffic",
      // Compliant mode has no route out; egress stays inside the VPC (endpoints and EFS).
      egress: internetEgress
        ? [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "outbound" }]
        : [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [vpcCidr], description: "AWS service endpoints" }, { protocol: "tcp", fromPort: 2049, toPort: 2049, cidrBlocks: [vpcCidr], description: "EFS" }],
      tags: { ...tags, Name: `${name}-processors-sg` },
    },
    opts,
  );
  const efsSecurityGroup = new aws.ec2.SecurityGroup(
    `${name}-efs-sg`,
    {
      vpcId,
      description: "NFS from the node's processors only",
      ingress: [{ protocol: "tcp", fromPort: 2049, toPort: 2049, securityGroups: [processorSecurityGroup.id], description: "processors" }],
      tags: { ...tags, Name: `${name}-efs-sg` },
    },
    opts,
  );
  return { processorSecurityGroup, efsSecurityGroup };
}

/** The i-th /20-or-smaller block of the VPC CIDR (4 bits more than the VPC prefix). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [ip, prefixText] = vpcCidr.split("/");
  const prefix = Number(prefixText);
  const newPrefix = Math.min(prefix + 4, 28);
  const base = ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const value = base + index * 2 ** (32 - newPrefix);
  return `${[24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".")}/${newPrefix}`;
}

export function assumeRole(service: string): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
}
