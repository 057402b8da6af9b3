import { ResolvedPlan } from "../plan/resolve";
import { lambdaFunctionName, nodeNamePart, stateMachineName, taskDefinitionFamily } from "../model/names";

/** Where the machine runs; every field has a placeholder default so `compile` works without AWS. */
export interface CompileTarget {
  /** @default plan.computeNodeId ?? "local" */
  computeNodeId: string;
  /** @default "us-east-1" */
  region: string;
  clusterArn: string;
  subnetIds: string[];
  securityGroupIds: string[];
  /** @default true in basic mode (public subnets need a public IP to pull images), false otherwise */
  assignPublicIp: boolean;
  dataTransferFunctionArn: string;
  finalizeFunctionArn: string;
  /** The node's tokens function (lib/integrations/tokens/lambda.ts): refreshes and hands over each processor's tokens. @default cn-<node>-tokens */
  tokensFunctionArn: string;
  /** The bucket of the executions' environment files (ECS processors' tokens). @default cn-<node>-env */
  envFileBucket: string;
  /** The node has a Cognito app client: a Lambda processor's ResolveToken is preceded by a refresh (ECS env-file steps always refresh when they can). @default false */
  refreshTokens: boolean;
  /** The join Lambda of exact mode (lib/integrations/join/lambda.ts): stores task tokens and releases units whose dependencies finished. @default cn-<node>-join */
  joinFunctionArn: string;
  /** Processor id → task definition (family, family:revision or ARN). @default taskDefinitionFamily(node, processor) */
  taskDefinitions: Record<string, string>;
  /** Processor id → function name or ARN. @default lambdaFunctionName(node, image) */
  lambdaFunctions: Record<string, string>;
  /** Child name → state machine ARN. @default arn:aws:states:<region>:000000000000:stateMachine:<stateMachineName(node, workflow, child)> */
  childStateMachineArns: Record<string, string>;
  /** Where EFS is mounted; the local runner passes a local directory. @default "/mnt/efs" */
  efsMountPath: string;
}

const ACCOUNT = "000000000000";

export function resolveTarget(plan: ResolvedPlan, given: Partial<CompileTarget> = {}): CompileTarget {
  const computeNodeId = given.computeNodeId ?? plan.computeNodeId ?? "local";
  const region = given.region ?? "us-east-1";
  const node = nodeNamePart(computeNodeId);
  const taskDefinitions: Record<string, string> = {};
  const lambdaFunctions: Record<string, string> = {};
  for (const p of plan.processors) {
    if (p.computeType === "ecs") taskDefinitions[p.id] = given.taskDefinitions?.[p.id] ?? taskDefinitionFamily(computeNodeId, p);
    else lambdaFunctions[p.id] = given.lambdaFunctions?.[p.id] ?? lambdaFunctionName(computeNodeId, p.image);
  }
  return {
    computeNodeId,
    region,
    clusterArn: given.clusterArn ?? `arn:aws:ecs:${region}:${ACCOUNT}:cluster/cn-${node}`,
    subnetIds: given.subnetIds ?? ["subnet-00000000000000000"],
    securityGroupIds: given.securityGroupIds ?? ["sg-00000000000000000"],
    assignPublicIp: given.assignPublicIp ?? plan.mode === "basic",
    dataTransferFunctionArn: given.dataTransferFunctionArn ?? `arn:aws:lambda:${region}:${ACCOUNT}:function:cn-${node}-data-transfer`,
    finalizeFunctionArn: given.finalizeFunctionArn ?? `arn:aws:lambda:${region}:${ACCOUNT}:function:cn-${node}-finalize`,
    joinFunctionArn: given.joinFunctionArn ?? `arn:aws:lambda:${region}:${ACCOUNT}:function:cn-${node}-join`,
    tokensFunctionArn: given.tokensFunctionArn ?? `arn:aws:lambda:${region}:${ACCOUNT}:function:cn-${node}-tokens`,
    refreshTokens: given.refreshTokens ?? false,
    envFileBucket: given.envFileBucket ?? `cn-${node}-env`.toLowerCase().replace(/[^a-z0-9.-]/g, "-").slice(0, 63),
    taskDefinitions,
    lambdaFunctions,
    childStateMachineArns: given.childStateMachineArns ?? {},
    efsMountPath: given.efsMountPath ?? "/mnt/efs",
  };
}

export function childStateMachineArn(target: CompileTarget, workflowName: string, child: string): string {
  return target.childStateMachineArns[child] ?? `arn:aws:states:${target.region}:${ACCOUNT}:stateMachine:${stateMachineName(target.computeNodeId, workflowName, child)}`;
}
