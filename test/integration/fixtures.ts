import { CreateLogGroupCommand, CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { CreateFunctionCommand } from "@aws-sdk/client-lambda";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { AwsClients, createAwsClients } from "../../lib/runtime/aws/clients";
import { createRateLimits } from "../../lib/runtime/aws/rate-limit";

/** Stack outputs of a node whose roles exist in moto (Lambda and Step Functions check them). */
export async function motoNode(endpoint: string, computeNodeId: string, overrides: Partial<NodeOutputs> = {}): Promise<NodeOutputs> {
  const lambdaRole = await createRole(endpoint, `${computeNodeId}-lambda`.slice(0, 64), "lambda.amazonaws.com").catch(() => `arn:aws:iam::123456789012:role/${computeNodeId}-lambda`.slice(0, 200));
  const sfnRole = await createRole(endpoint, `${computeNodeId}-sfn`.slice(0, 64), "states.amazonaws.com").catch(() => `arn:aws:iam::123456789012:role/${computeNodeId}-sfn`);
  const logs = new CloudWatchLogsClient(sdkConfig(endpoint));
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
    tokensFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:cn-${computeNodeId}-tokens`,
    envFileBucket: `cn-${computeNodeId}-env`,
    ...overrides,
  };
}

/** The node's own functions (data transfer, finalize, tokens) exist before any workflow; moto echoes their payloads. */
export async function createNodeFunctions(clients: AwsClients, node: NodeOutputs) {
  for (const arn of [node.dataTransferFunctionArn, node.finalizeFunctionArn!, ...(node.tokensFunctionArn ? [node.tokensFunctionArn] : [])])
    await clients.lambda.send(new CreateFunctionCommand({ FunctionName: arn.split(":").pop(), PackageType: "Image", Code: { ImageUri: "node-fn:1" }, Role: node.lambdaExecutionRoleArn }));
}

/** Configuration for an SDK client the runtime does not build (S3, CloudWatch Logs) against moto. */
export function sdkConfig(endpoint: string) {
  return { region: "us-east-1", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" }, maxAttempts: 1 };
}

/** Clients against moto with rate limits fast enough for tests (the limiter is still in the path). */
export function motoClients(endpoint: string): AwsClients {
  return createAwsClients({ region: "us-east-1", endpoint, limits: createRateLimits({ rates: { "sfn:CreateStateMachine": 50, "sfn:UpdateStateMachine": 50, "sfn:DeleteStateMachine": 50, "ecs:RegisterTaskDefinition": 50, "ecs:DeregisterTaskDefinition": 50, "ecs:DeleteTaskDefinitions": 50 } }) });
}

/** Creates an IAM role through moto's query API (no IAM client is installed); returns its ARN. */
async function createRole(endpoint: string, name: string, service: string): Promise<string> {
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
  const body = new URLSearchParams({ Action: "CreateRole", Version: "2010-05-08", RoleName: name, AssumeRolePolicyDocument: policy });
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x" },
    body,
  });
  const text = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!arn) throw new Error(`moto CreateRole failed: ${res.status} ${text.slice(0, 300)}`);
  return arn;
}
