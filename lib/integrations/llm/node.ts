import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "../../node/config";
import { handlerArchive } from "../../node/handler-archive";
import { NodeNetwork, assumeRole } from "../../node/network";
import { stateMachinePrefix } from "../../model/names";
import { GOVERNOR_ENV, LlmSettings } from "./contract";
import { BY_EXECUTION_INDEX, USAGE_TTL_ATTRIBUTE } from "./dynamo-store";
import { resolveLlmSettings } from "./settings";
import { splitBedrockId } from "./prices";
import { TAG } from "../../model/tags";

export interface NodeLlm {
  usageTable: aws.dynamodb.Table;
  governor: aws.lambda.Function;
  /** The Function URL processors reach the Messages API at (basic and secure modes; none in compliant mode, which has no way out of its VPC). */
  url?: aws.lambda.FunctionUrl;
  settings: LlmSettings;
}

export interface LlmGovernorArgs {
  config: NodeConfig;
  network: NodeNetwork;
  /** The node's executions table: the governor checks that a call's execution is one of the node's, and reads its user. */
  executionTable: aws.dynamodb.Table;
  /** The roles whose sessions may call (ECS task role, Lambda processor role). */
  processorRoles: aws.iam.Role[];
  accountId: pulumi.Input<string>;
  partition: pulumi.Input<string>;
  keys?: { tables: pulumi.Input<string>; logs: pulumi.Input<string>; environment: pulumi.Input<string> };
  tags: Record<string, string>;
}

/** The usage table's name: finalize's grant names it before it exists. */
export function llmUsageTableName(computeNodeId: string): string {
  return `cn-${computeNodeId}-llm-usage`;
}

/** The governor function's name: the processor roles' grant names it before it exists. */
export function llmGovernorFunctionName(computeNodeId: string): string {
  return `cn-${computeNodeId}-llm-governor`;
}

/**
 * The governed Bedrock access of a node: the usage table (budgets, reservations, usage items,
 * per-execution totals), the governor Lambda behind an `AWS_IAM` Function URL with response
 * streaming, and the governor's role, which may invoke only the allowed models and inference profiles.
 */
export function createLlmGovernor(name: string, args: LlmGovernorArgs, parent: pulumi.Resource): NodeLlm {
  const { config, tags } = args;
  const opts = { parent };
  // Validated with the rest of the config (parseNodeConfig); resolving again here gives the Lambda its prices.
  const settings = resolveLlmSettings(config.llm, { computeNodeId: config.computeNodeId, region: config.region });
  const usageTable = new aws.dynamodb.Table(
    `${name}-llm-usage`,
    {
      name: llmUsageTableName(config.computeNodeId),
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
        { name: "executionId", type: "S" },
      ],
      globalSecondaryIndexes: [{ name: BY_EXECUTION_INDEX, hashKey: "executionId", rangeKey: "sk", projectionType: "ALL" }],
      // Usage items go after 90 days and counters after their window; reservations carry no TTL (a sweep frees them).
      ttl: { attributeName: USAGE_TTL_ATTRIBUTE, enabled: true },
      serverSideEncryption: args.keys ? { enabled: true, kmsKeyArn: args.keys.tables } : { enabled: true },
      pointInTimeRecovery: { enabled: true },
      tags,
    },
    opts,
  );
  const functionName = llmGovernorFunctionName(config.computeNodeId);
  const role = new aws.iam.Role(`${name}-llm-governor-role`, { assumeRolePolicy: assumeRole("lambda.amazonaws.com"), tags: { ...tags, [TAG.role]: "llm-governor" } }, opts);
  const privateNetwork = config.mode !== "basic";
  new aws.iam.RolePolicy(
    `${name}-llm-governor-policy`,
    {
      role: role.id,
      policy: pulumi
        .all([usageTable.arn, args.executionTable.arn, args.accountId, args.partition, args.keys?.tables, args.keys?.environment])
        .apply(([tableArn, executionTableArn, account, part, tableKey, envKey]) =>
          JSON.stringify({ Version: "2012-10-17", Statement: governorStatements({ settings, tableArn, executionTableArn, account, partition: part, functionName, privateNetwork, keys: [tableKey, envKey].filter((k): k is string => !!k) }) }),
        ),
    },
    opts,
  );
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-llm-governor-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: 30, kmsKeyId: args.keys?.logs, tags }, opts);
  const governor = new aws.lambda.Function(
    `${name}-llm-governor`,
    {
      name: functionName,
      runtime: aws.lambda.Runtime.NodeJS20dX,
      handler: "lib/integrations/llm/lambda.handler",
      code: handlerArchive("lib/integrations/llm/lambda"),
      role: role.arn,
      // Lambda's maximum: a long streamed answer must finish; the governor cuts Bedrock off at settings.callTimeoutSeconds before this.
      timeout: 900,
      memorySize: 512,
      // Basic mode's default subnets have no way to Bedrock or DynamoDB from a Lambda (no public IP, no NAT).
      vpcConfig: privateNetwork ? { subnetIds: args.network.subnetIds, securityGroupIds: [args.network.processorSecurityGroup.id] } : undefined,
      environment: {
        variables: {
          [GOVERNOR_ENV.settings]: JSON.stringify(settings),
          [GOVERNOR_ENV.usageTable]: usageTable.name,
          [GOVERNOR_ENV.executionTable]: args.executionTable.name,
          [GOVERNOR_ENV.processorRoles]: pulumi.all(args.processorRoles.map((r) => r.name)).apply((names) => names.join(",")),
        },
      },
      kmsKeyArn: args.keys?.environment,
      // Who acknowledged what, for auditors and the policy pack: LLM access in secure and compliant modes needs the BAA.
      tags: { ...tags, [TAG.baaAcknowledged]: String(config.baaAcknowledged) },
    },
    { parent, dependsOn: [logGroup] },
  );
  // A Function URL is an endpoint on the internet (IAM-authenticated): compliant processors cannot reach one and use the Lambda VPC endpoint instead.
  const url =
    config.mode === "compliant"
      ? undefined
      : new aws.lambda.FunctionUrl(`${name}-llm-governor-url`, { functionName: governor.name, authorizationType: "AWS_IAM", invokeMode: "RESPONSE_STREAM" }, opts);
  return { usageTable, governor, url, settings };
}

interface GovernorPolicyArgs {
  settings: LlmSettings;
  tableArn: string;
  executionTableArn: string;
  account: string;
  partition: string;
  functionName: string;
  privateNetwork: boolean;
  keys: string[];
}

/**
 * The governor role's statements. Bedrock: only the allowed models; an inference profile needs the
 * profile ARN and its foundation model in every destination region, the latter only through that
 * profile (`bedrock:InferenceProfileArn`).
 */
export function governorStatements(a: GovernorPolicyArgs): Record<string, unknown>[] {
  const invoke = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];
  const direct: string[] = [];
  const profiles: string[] = [];
  const destinations: string[] = [];
  for (const model of a.settings.models) {
    const id = model.bedrockModelId;
    const split = splitBedrockId(id);
    if (!split) {
      // An application inference profile ARN: the profile, and foundation models only through it.
      profiles.push(id);
      destinations.push(`arn:${a.partition}:bedrock:*::foundation-model/*`);
    } else if (split.baseModelId !== id) {
      profiles.push(`arn:${a.partition}:bedrock:${a.settings.region}:${a.account}:inference-profile/${id}`);
      destinations.push(`arn:${a.partition}:bedrock:*::foundation-model/${split.baseModelId}`);
      // Global profiles route to foundation models named without a region.
      if (split.endpoint === "global") destinations.push(`arn:${a.partition}:bedrock:::foundation-model/${split.baseModelId}`);
    } else direct.push(`arn:${a.partition}:bedrock:${a.settings.region}::foundation-model/${id}`);
  }
  const statements: Record<string, unknown>[] = [];
  // CountTokens (free) names the foundation model in the node's region.
  const counted = [...new Set(a.settings.models.map((m) => splitBedrockId(m.bedrockModelId)?.baseModelId).filter((id): id is string => !!id))];
  if (counted.length) statements.push({ Sid: "CountTokensOfAllowedModels", Effect: "Allow", Action: ["bedrock:CountTokens"], Resource: counted.map((id) => `arn:${a.partition}:bedrock:${a.settings.region}::foundation-model/${id}`) });
  if (direct.length || profiles.length) statements.push({ Sid: "InvokeAllowedModels", Effect: "Allow", Action: invoke, Resource: [...direct, ...profiles] });
  if (destinations.length)
    statements.push({ Sid: "InvokeThroughAllowedProfiles", Effect: "Allow", Action: invoke, Resource: [...new Set(destinations)], Condition: { StringEquals: { "bedrock:InferenceProfileArn": profiles } } });
  statements.push(
    // Reservations and settlements are TransactWriteItems, authorized as the item actions they contain.
    { Sid: "UsageTable", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:Query"], Resource: [a.tableArn, `${a.tableArn}/index/*`] },
    { Sid: "ReadExecutionRecords", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: a.executionTableArn },
    { Sid: "CheckExecutionRunning", Effect: "Allow", Action: ["states:DescribeExecution"], Resource: `arn:${a.partition}:states:${a.settings.region}:${a.account}:execution:${stateMachinePrefix(a.settings.computeNodeId)}*` },
    { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `arn:${a.partition}:logs:${a.settings.region}:${a.account}:log-group:/aws/lambda/${a.functionName}:*` },
  );
  if (a.privateNetwork) statements.push({ Effect: "Allow", Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"], Resource: "*" });
  if (a.keys.length) statements.push({ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: a.keys });
  return statements;
}
