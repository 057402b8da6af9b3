import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient, ListRulesCommand, ListTargetsByRuleCommand } from "@aws-sdk/client-eventbridge";
import {
  DescribeAddressesCommand,
  DescribeFlowLogsCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeClustersCommand, ECSClient, ListClustersCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { DescribeAccessPointsCommand, DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from "@aws-sdk/client-efs";
import { IAMClient, ListInstanceProfilesCommand, ListRolePoliciesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ListStateMachinesCommand, SFNClient } from "@aws-sdk/client-sfn";

/** SDK clients against moto (never Pulumi's state): what the tier reads back. */
export function sdk(endpoint: string) {
  const config = { region: "us-east-1", endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" }, maxAttempts: 1 };
  return {
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
    efs: new EFSClient(config),
    iam: new IAMClient(config),
    kms: new KMSClient(config),
    lambda: new LambdaClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    logs: new CloudWatchLogsClient(config),
    dynamodb: new DynamoDBClient(config),
    events: new EventBridgeClient(config),
    sfn: new SFNClient(config),
    secrets: new SecretsManagerClient(config),
  };
}
export type Sdk = ReturnType<typeof sdk>;

/**
 * Everything of every service the node program (and the runtime on it) touches, as sorted
 * `service:kind:id` strings, so two snapshots compare as sets. KMS keys pending deletion are
 * listed as such: AWS (and moto) cannot delete a key at once, only schedule it.
 */
export async function inventory(c: Sdk): Promise<string[]> {
  const out: string[] = [];
  const add = (prefix: string, ids: (string | undefined)[]) => ids.forEach((id) => out.push(`${prefix}:${id}`));
  add("ec2:vpc", ((await c.ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => v.VpcId));
  add("ec2:subnet", ((await c.ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []).map((s) => s.SubnetId));
  add("ec2:route-table", ((await c.ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? []).map((r) => `${r.RouteTableId}[${(r.Routes ?? []).map((x) => x.DestinationCidrBlock ?? x.DestinationPrefixListId).sort().join(",")}]`));
  add("ec2:igw", ((await c.ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways ?? []).map((g) => g.InternetGatewayId));
  add("ec2:nat", ((await c.ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways ?? []).filter((n) => n.State !== "deleted").map((n) => n.NatGatewayId));
  add("ec2:eip", ((await c.ec2.send(new DescribeAddressesCommand({}))).Addresses ?? []).map((a) => a.AllocationId));
  add("ec2:sg", ((await c.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).map((g) => `${g.GroupId}(${g.GroupName})`));
  add("ec2:vpce", ((await c.ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints ?? []).filter((e) => String(e.State).toLowerCase() !== "deleted").map((e) => `${e.VpcEndpointId}(${e.ServiceName})`));
  add("ec2:flow-log", ((await c.ec2.send(new DescribeFlowLogsCommand({}))).FlowLogs ?? []).map((f) => f.FlowLogId));
  add("ec2:launch-template", ((await c.ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates ?? []).map((t) => t.LaunchTemplateName));
  add("ec2:eni", ((await c.ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId));
  // A deleted cluster stays describable as INACTIVE for a while (in AWS too): it is gone.
  const clusterArns = (await c.ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
  const clusters = clusterArns.length ? ((await c.ecs.send(new DescribeClustersCommand({ clusters: clusterArns }))).clusters ?? []) : [];
  add("ecs:cluster", clusters.filter((cl) => cl.status !== "INACTIVE").map((cl) => cl.clusterArn));
  add("ecs:task-definition", (await c.ecs.send(new ListTaskDefinitionsCommand({}))).taskDefinitionArns ?? []);
  const fileSystems = (await c.efs.send(new DescribeFileSystemsCommand({}))).FileSystems ?? [];
  add("efs:fs", fileSystems.map((f) => f.FileSystemId));
  for (const fs of fileSystems) {
    add("efs:mount-target", ((await c.efs.send(new DescribeMountTargetsCommand({ FileSystemId: fs.FileSystemId }))).MountTargets ?? []).map((m) => m.MountTargetId));
    add("efs:access-point", ((await c.efs.send(new DescribeAccessPointsCommand({ FileSystemId: fs.FileSystemId }))).AccessPoints ?? []).map((a) => a.AccessPointId));
  }
  const roles = (await c.iam.send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? [];
  add("iam:role", roles.map((r) => r.RoleName));
  for (const r of roles) add("iam:role-policy", ((await c.iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName }))).PolicyNames ?? []).map((p) => `${r.RoleName}/${p}`));
  add("iam:instance-profile", ((await c.iam.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []).map((p) => p.InstanceProfileName));
  // AWS-managed keys (alias/aws/dynamodb…) are the account's, created by services on first use;
  // moto creates them as customer keys, so their alias tells them apart too.
  const awsManaged = new Set(((await c.kms.send(new ListAliasesCommand({}))).Aliases ?? []).filter((a) => a.AliasName?.startsWith("alias/aws/")).map((a) => a.TargetKeyId));
  for (const k of (await c.kms.send(new ListKeysCommand({}))).Keys ?? []) {
    const meta = (await c.kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
    if (meta?.KeyManager === "AWS" || awsManaged.has(k.KeyId)) continue;
    out.push(`kms:key:${k.KeyId}(${meta?.KeyState})`);
  }
  add("kms:alias", ((await c.kms.send(new ListAliasesCommand({}))).Aliases ?? []).filter((a) => !a.AliasName?.startsWith("alias/aws/")).map((a) => a.AliasName));
  add("lambda:function", ((await c.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName));
  add("s3:bucket", ((await c.s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name));
  add("logs:group", ((await c.logs.send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map((g) => g.logGroupName));
  const rules = (await c.events.send(new ListRulesCommand({}))).Rules ?? [];
  add("events:rule", rules.map((r) => r.Name));
  for (const r of rules) add("events:target", ((await c.events.send(new ListTargetsByRuleCommand({ Rule: r.Name }))).Targets ?? []).map((t) => `${r.Name}/${t.Id}`));
  add("dynamodb:table", (await c.dynamodb.send(new ListTablesCommand({}))).TableNames ?? []);
  add("sfn:state-machine", ((await c.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).map((m) => m.name));
  add("secretsmanager:secret", ((await c.secrets.send(new ListSecretsCommand({}))).SecretList ?? []).map((s) => s.Name));
  return out.sort();
}

/** What `after` has that `before` had not (created), and what it lost (deleted). */
export function compare(before: string[], after: string[]) {
  const b = new Set(before);
  const a = new Set(after);
  return { added: after.filter((x) => !b.has(x)), removed: before.filter((x) => !a.has(x)) };
}
