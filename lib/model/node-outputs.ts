import { z } from "zod";
import { DeploymentModeSchema } from "./mode";
import { ComputeNodeIdSchema } from "./ids";

/**
 * The stack outputs of a compute node (what `pulumi stack output --json` prints) that the
 * runtime reads. The node program must export at least these names; more are allowed.
 */
export const NodeOutputsSchema = z
  .object({
    computeNodeId: ComputeNodeIdSchema,
    deploymentMode: DeploymentModeSchema,
    region: z.string().min(1),
    clusterArn: z.string().min(1),
    subnetIds: z.array(z.string().min(1)).min(1),
    securityGroupIds: z.array(z.string().min(1)).min(1),
    efsFileSystemId: z.string().min(1),
    efsAccessPointArn: z.string().min(1),
    taskExecutionRoleArn: z.string().min(1),
    taskRoleArn: z.string().min(1),
    stateMachineRoleArn: z.string().min(1),
    lambdaExecutionRoleArn: z.string().min(1),
    logGroupName: z.string().min(1),
    logArchiveBucket: z.string().min(1),
    dataTransferFunctionArn: z.string().min(1),
    finalizeFunctionArn: z.string().min(1).optional(),
    /** The join Lambda of exact mode; without it (a node provisioned before exact mode) workflows compile without exact mode. */
    joinFunctionArn: z.string().min(1).optional(),
    /** The DynamoDB table where the join Lambda keeps task tokens; without it the node cannot run exact-mode workflows. */
    joinTableName: z.string().min(1).optional(),
    /** The node's tokens function (refresh, ECS environment files); without it (a node provisioned before it) workflows cannot be deployed: update the node. */
    tokensFunctionArn: z.string().min(1).optional(),
    /** The bucket of the executions' environment files (ECS processors' tokens). */
    envFileBucket: z.string().min(1).optional(),
    /** The Cognito app client the node refreshes session tokens with (region and id; not secret). */
    cognitoRegion: z.string().min(1).optional(),
    cognitoClientId: z.string().min(1).optional(),
    /** Where runs may upload results (bucket ARNs, optionally with a key prefix); absent on nodes provisioned before uploads: s3:// outputs are refused there. */
    outputBucketArns: z.array(z.string()).optional(),
    /** Whether processors get a public IP (basic mode's public subnets). @default false */
    assignPublicIp: z.boolean().optional(),
    environment: z.string().optional(),
    /** DynamoDB table of execution records; without it records stay in local files. */
    executionTableName: z.string().min(1).optional(),
    /** Customer-managed key for per-execution token secrets (secure and compliant nodes). */
    secretsKmsKeyArn: z.string().min(1).optional(),
    /** With LLM access: the governor Lambda (processors in compliant mode call it with InvokeWithResponseStream). */
    llmGovernorFunctionArn: z.string().min(1).optional(),
    /** With LLM access outside compliant mode: the governor's Function URL, processors' ANTHROPIC_BASE_URL. */
    llmBaseUrl: z.string().url().optional(),
    /** With LLM access: the usage table (budgets, usage items, per-execution totals) `compute-node llm usage` reads. */
    llmUsageTableName: z.string().min(1).optional(),
  })
  .passthrough();

export type NodeOutputs = z.infer<typeof NodeOutputsSchema>;
