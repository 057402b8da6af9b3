import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { handlerArchive } from "./handler-archive";
import { NodeNetwork } from "./network";
import { NodeStorage } from "./storage";

export interface NodeFunctions {
  dataTransfer: aws.lambda.Function;
  finalize: aws.lambda.Function;
}

export interface FunctionArgs {
  computeNodeId: string;
  network: NodeNetwork;
  storage: NodeStorage;
  dataTransferRole: aws.iam.Role;
  finalizeRole: aws.iam.Role;
  executionTableName: pulumi.Input<string>;
  logsKeyArn?: pulumi.Input<string>;
  /** Customer-managed key for the functions' environment variables (secure, compliant). */
  environmentKeyArn?: pulumi.Input<string>;
  /**
   * Whether the node's subnets reach AWS services privately (NAT or endpoints). Basic mode's default
   * subnets do not: a VPC Lambda never gets a public IP, so there only EFS users join the VPC.
   */
  privateNetwork: boolean;
  tags: Record<string, string>;
}

/** The data-transfer (download, MergeInputs, cleanup) and finalize Lambdas, built from lib/handlers. */
export function createFunctions(name: string, args: FunctionArgs, parent: pulumi.Resource): NodeFunctions {
  const make = (kind: "data-transfer" | "finalize", role: aws.iam.Role, timeout: number, environment: Record<string, pulumi.Input<string>>, mountsEfs: boolean) => {
    const inVpc = mountsEfs || args.privateNetwork;
    const functionName = `cn-${args.computeNodeId}-${kind}`;
    // Created up front so its retention and key apply; Lambda would otherwise create it unencrypted and kept forever.
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-${kind}-logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: 30, kmsKeyId: args.logsKeyArn, tags: args.tags }, { parent });
    return new aws.lambda.Function(
      `${name}-${kind}`,
      {
        name: functionName,
        runtime: aws.lambda.Runtime.NodeJS20dX,
        handler: `lib/handlers/${kind}.handler`,
        code: handlerArchive(`lib/handlers/${kind}`),
        role: role.arn,
        timeout,
        memorySize: 1024,
        vpcConfig: inVpc ? { subnetIds: args.network.subnetIds, securityGroupIds: [args.network.processorSecurityGroup.id] } : undefined,
        fileSystemConfig: mountsEfs ? { arn: args.storage.accessPoint.arn, localMountPath: "/mnt/efs" } : undefined,
        environment: { variables: environment },
        kmsKeyArn: args.environmentKeyArn,
        tags: args.tags,
      },
      // Lambda cannot mount EFS before a mount target exists in its subnets.
      { parent, dependsOn: mountsEfs ? [...args.storage.mountTargets, logGroup] : [logGroup] },
    );
  };
  const dataTransfer = make("data-transfer", args.dataTransferRole, 900, { EFS_MOUNT_PATH: "/mnt/efs" }, true);
  const finalize = make("finalize", args.finalizeRole, 300, {
    LOG_GROUP_NAME: args.storage.logGroup.name,
    LOG_ARCHIVE_BUCKET: args.storage.archiveBucket.bucket,
    EXECUTION_TABLE: args.executionTableName,
  }, false);
  return { dataTransfer, finalize };
}
