import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { handlerArchive } from "./handler-archive";
import { NodeNetwork } from "./network";
import { NodeStorage } from "./storage";
import { NODE_FUNCTION_MEMORY_MB } from "../cost/report";

export interface NodeFunctions {
  dataTransfer: aws.lambda.Function;
  finalize: aws.lambda.Function;
  join: aws.lambda.Function;
  tokens: aws.lambda.Function;
}

export interface FunctionArgs {
  computeNodeId: string;
  network: NodeNetwork;
  storage: NodeStorage;
  dataTransferRole: aws.iam.Role;
  finalizeRole: aws.iam.Role;
  joinRole: aws.iam.Role;
  tokensRole: aws.iam.Role;
  /** Where the tokens function writes ECS processors' environment files. */
  envFileBucket: pulumi.Input<string>;
  /** The Cognito app client the tokens function refreshes session tokens with; absent: tokens are handed over as they are. */
  cognito?: { region: string; clientId: string };
  executionTableName: pulumi.Input<string>;
  joinTableName: pulumi.Input<string>;
  logsKeyArn?: pulumi.Input<string>;
  /** Customer-managed key for the functions' environment variables (secure, compliant). */
  environmentKeyArn?: pulumi.Input<string>;
  /**
   * Whether the node's subnets reach AWS services privately (NAT or endpoints). Basic mode's default
   * subnets reach S3 only (its gateway endpoint): a VPC Lambda never gets a public IP, so there only
   * EFS users join the VPC.
   */
  privateNetwork: boolean;
  /** With LLM access: the usage table whose execution totals finalize's cost report reads (LLM_USAGE_TABLE). */
  llmUsageTableName?: string;
  tags: Record<string, string>;
}

interface FunctionSpec {
  role: aws.iam.Role;
  timeout: number;
  memorySize: number;
  environment: Record<string, pulumi.Input<string>>;
  mountsEfs: boolean;
}

/** Each node function's handler module: the slice's lambda.ts. Function names keep the kind, so existing nodes update in place. */
const HANDLER_ENTRY = {
  "data-transfer": "lib/integrations/transfer/lambda",
  finalize: "lib/integrations/finalize/lambda",
  join: "lib/integrations/join/lambda",
  tokens: "lib/integrations/tokens/lambda",
} as const;

/** The node's own Lambdas: data-transfer (download, MergeInputs, cleanup), finalize, join (exact mode) and tokens (refresh, ECS environment files). */
export function createFunctions(name: string, args: FunctionArgs, parent: pulumi.Resource): NodeFunctions {
  const make = (kind: keyof typeof HANDLER_ENTRY, spec: FunctionSpec) => {
    const inVpc = spec.mountsEfs || args.privateNetwork;
    const functionName = `cn-${args.computeNodeId}-${kind}`;
    // Created up front so its retention and key apply; Lambda would otherwise create it unencrypted and kept forever.
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-${kind}-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: 30, kmsKeyId: args.logsKeyArn, tags: args.tags }, { parent });
    return new aws.lambda.Function(
      `${name}-${kind}`,
      {
        name: functionName,
        runtime: aws.lambda.Runtime.NodeJS20dX,
        handler: `${HANDLER_ENTRY[kind]}.handler`,
        code: handlerArchive(HANDLER_ENTRY[kind]),
        role: spec.role.arn,
        timeout: spec.timeout,
        memorySize: spec.memorySize,
        vpcConfig: inVpc ? { subnetIds: args.network.subnetIds, securityGroupIds: [args.network.processorSecurityGroup.id] } : undefined,
        fileSystemConfig: spec.mountsEfs ? { arn: args.storage.accessPoint.arn, localMountPath: "/mnt/efs" } : undefined,
        environment: { variables: spec.environment },
        kmsKeyArn: args.environmentKeyArn,
        tags: args.tags,
      },
      // Lambda cannot mount EFS before a mount target exists in its subnets.
      { parent, dependsOn: spec.mountsEfs ? [...args.storage.mountTargets, logGroup] : [logGroup] },
    );
  };
  const dataTransfer = make("data-transfer", { role: args.dataTransferRole, timeout: 900, memorySize: NODE_FUNCTION_MEMORY_MB["data-transfer"], environment: { EFS_MOUNT_PATH: "/mnt/efs", COMPUTE_NODE_ID: args.computeNodeId }, mountsEfs: true });
  const finalize = make("finalize", {
    role: args.finalizeRole,
    timeout: 300,
    memorySize: NODE_FUNCTION_MEMORY_MB.finalize,
    environment: {
      // The stop rule's events (lib/integrations/finalize/stopped.ts) are checked against it.
      COMPUTE_NODE_ID: args.computeNodeId,
      // After a stop, finalize has the data-transfer function remove the execution's EFS dirs (the skipped Cleanup state).
      DATA_TRANSFER_FUNCTION: dataTransfer.name,
      LOG_GROUP_NAME: args.storage.logGroup.name,
      LOG_ARCHIVE_BUCKET: args.storage.archiveBucket.bucket,
      EXECUTION_TABLE: args.executionTableName,
      ENV_FILE_BUCKET: args.envFileBucket,
      ...(args.llmUsageTableName ? { LLM_USAGE_TABLE: args.llmUsageTableName } : {}),
    },
    mountsEfs: false,
  });
  // A few DynamoDB writes and SendTask* calls per invocation: small and short, but above the 3 s default for a cold start in a VPC.
  const join = make("join", { role: args.joinRole, timeout: 60, memorySize: NODE_FUNCTION_MEMORY_MB.join, environment: { JOIN_TABLE: args.joinTableName }, mountsEfs: false });
  // A secret read, maybe a Cognito refresh, a secret write and an S3 put: small and short.
  const tokens = make("tokens", {
    role: args.tokensRole,
    timeout: 30,
    memorySize: NODE_FUNCTION_MEMORY_MB.tokens,
    environment: {
      COMPUTE_NODE_ID: args.computeNodeId,
      ENV_FILE_BUCKET: args.envFileBucket,
      ...(args.cognito ? { COGNITO_REGION: args.cognito.region, COGNITO_CLIENT_ID: args.cognito.clientId } : {}),
    },
    mountsEfs: false,
  });
  return { dataTransfer, finalize, join, tokens };
}
