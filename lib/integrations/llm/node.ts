import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "../../node/config";
import { handlerArchive } from "../../node/handler-archive";
import { NodeNetwork, assumeRole } from "../../node/network";

export interface NodeLlm {
  usageTable: aws.dynamodb.Table;
  governor: aws.lambda.Function;
}

/** The governed Bedrock proxy: a Lambda that enforces the model allowlist and the monthly budget, and its usage table. */
export function createLlmGovernor(name: string, config: NodeConfig, network: NodeNetwork, keyArn: pulumi.Input<string> | undefined, tags: Record<string, string>, parent: pulumi.Resource): NodeLlm {
  const opts = { parent };
  const usageTable = new aws.dynamodb.Table(
    `${name}-llm-usage`,
    {
      name: `cn-${config.computeNodeId}-llm-usage`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "month",
      attributes: [{ name: "month", type: "S" }],
      serverSideEncryption: keyArn ? { enabled: true, kmsKeyArn: keyArn } : { enabled: true },
      pointInTimeRecovery: { enabled: true },
      tags,
    },
    opts,
  );
  const functionName = `cn-${config.computeNodeId}-llm-governor`;
  const role = new aws.iam.Role(`${name}-llm-governor-role`, { assumeRolePolicy: assumeRole("lambda.amazonaws.com"), tags: { ...tags, "compute-node:role": "llm-governor" } }, opts);
  const identity = pulumi.output(aws.getCallerIdentity({}, opts));
  const partition = pulumi.output(aws.getPartition({}, opts));
  new aws.iam.RolePolicy(
    `${name}-llm-governor-policy`,
    {
      role: role.id,
      policy: pulumi.all([usageTable.arn, identity.accountId, partition.partition, keyArn]).apply(([tableArn, account, part, key]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["bedrock:InvokeModel"], Resource: config.llm.allowedModels.map((m) => `arn:${part}:bedrock:${config.region}::foundation-model/${m}`) },
            { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: tableArn },
            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `arn:${part}:logs:${config.region}:${account}:log-group:/aws/lambda/${functionName}:*` },
            { Effect: "Allow", Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"], Resource: "*" },
            ...(key ? [{ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: key }] : []),
          ],
        }),
      ),
    },
    opts,
  );
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-llm-governor-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: 30, kmsKeyId: keyArn, tags }, opts);
  const governor = new aws.lambda.Function(
    `${name}-llm-governor`,
    {
      name: functionName,
      runtime: aws.lambda.Runtime.NodeJS20dX,
      handler: "lib/integrations/llm/governor.handler",
      code: handlerArchive("lib/integrations/llm/governor"),
      role: role.arn,
      timeout: 300,
      memorySize: 512,
      // Basic mode's default subnets have no way to Bedrock or DynamoDB from a Lambda (no public IP, no NAT).
      vpcConfig: config.mode === "basic" ? undefined : { subnetIds: network.subnetIds, securityGroupIds: [network.processorSecurityGroup.id] },
      environment: { variables: { ALLOWED_MODELS: config.llm.allowedModels.join(","), MONTHLY_BUDGET_USD: String(config.llm.monthlyBudgetUsd), USAGE_TABLE: usageTable.name } },
      kmsKeyArn: keyArn,
      tags,
    },
    { parent, dependsOn: [logGroup] },
  );
  return { usageTable, governor };
}
