import { CreateLogGroupCommand, CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { AwsClients, createAwsClients } from "../../lib/runtime/aws/clients";
import { createRateLimits } from "../../lib/runtime/aws/rate-limit";
import { createRole } from "./moto";

/** Stack outputs of a node whose roles exist in moto (Lambda and Step Functions check them). */
export async function motoNode(endpoint: string, computeNodeId: string, overrides: Partial<NodeOutputs> = {}): Promise<NodeOutputs> {
  const lambdaRole = await createRole(endpoint, `${computeNodeId}-lambda`.slice(0, 64), "lambda.amazonaws.com").catch(() => `arn:aws:iam::123456789012:role/${computeNodeId}-lambda`.slice(0, 200));
  const sfnRole = await createRole(endpoint, `${computeNodeId}-sfn`.slice(0, 64), "states.amazonaws.com").catch(() => `arn:aws:iam::123456789012:role/${computeNodeId}-sfn`);
  const logs = new CloudWatchLogsClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 });
  await logs.send(new CreateLogGroupCommand({ logGroupName: `/compute-node/${computeNodeId}` })).catch(() => undefined);
  return {
    computeNodeId,
    deploymentMode: "secure",
    region: "us-east-1",
    clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/cn-${computeNodeId}`,
    subnetIds: ["subnet-0aaa", "subnet-0bbb"],
    securityGroupIds: ["sg-0ccc"],
    efsFileSystemId: "fs-0123456789abcdef0",
    efsAccessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0",
    taskExecutionRoleArn: "arn:aws:iam::123456789012:role/exec",
    taskRoleArn: "arn:aws:iam::123456789012:role/task",
    stateMachineRoleArn: sfnRole,
    lambdaExecutionRoleArn: lambdaRole,
    logGroupName: `/compute-node/${computeNodeId}`,
    logArchiveBucket: `cn-${computeNodeId}-archive`,
    dataTransferFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:cn-${computeNodeId}-data-transfer`,
    finalizeFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:cn-${computeNodeId}-finalize`,
    ...overrides,
  };
}

/** Clients against moto with rate limits fast enough for tests (the limiter is still in the path). */
export function motoClients(endpoint: string): AwsClients {
  return createAwsClients({ region: "us-east-1", endpoint, limits: createRateLimits({ rates: { "sfn:CreateStateMachine": 50, "sfn:UpdateStateMachine": 50, "sfn:DeleteStateMachine": 50, "ecs:RegisterTaskDefinition": 50, "ecs:DeregisterTaskDefinition": 50, "ecs:DeleteTaskDefinitions": 50 } }) });
}
