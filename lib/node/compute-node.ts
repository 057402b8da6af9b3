import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NodeConfig } from "./config";
import { createCluster } from "./cluster";
import { NodeDestroyHook } from "./destroy-hook";
import { createFunctions } from "./functions";
import { createRoles } from "./iam";
import { KeyPurpose, createKeys } from "./kms";
import { createJoinTable } from "../integrations/join/node";
import { createLlmGovernor, llmGovernorFunctionName, llmUsageTableName } from "../integrations/llm/node";
import { createEnvFileBucket } from "../integrations/tokens/node";
import { createNetwork } from "./network";
import { createStorage } from "./storage";
import { createStopRule } from "./stop-rule";
import { TAG, nodeTags } from "../model/tags";

export interface ComputeNodeArgs {
  config: NodeConfig;
}

/** A Pennsieve-style compute node in one of three deployment modes (compute-nodes-guide). */
export class ComputeNode extends pulumi.ComponentResource {
  readonly computeNodeId: string;
  readonly deploymentMode: string;
  readonly region: string;
  readonly clusterArn: pulumi.Output<string>;
  readonly subnetIds: pulumi.Output<string[]>;
  readonly securityGroupIds: pulumi.Output<string[]>;
  readonly efsFileSystemId: pulumi.Output<string>;
  readonly efsAccessPointArn: pulumi.Output<string>;
  readonly taskExecutionRoleArn: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly stateMachineRoleArn: pulumi.Output<string>;
  readonly lambdaExecutionRoleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly logArchiveBucket: pulumi.Output<string>;
  readonly dataTransferFunctionArn: pulumi.Output<string>;
  readonly finalizeFunctionArn: pulumi.Output<string>;
  readonly joinFunctionArn: pulumi.Output<string>;
  readonly joinTableName: pulumi.Output<string>;
  readonly tokensFunctionArn: pulumi.Output<string>;
  readonly envFileBucket: pulumi.Output<string>;
  /** Where runs may upload their results (NodeConfig.outputBucketArns): the runtime refuses other destinations before a run starts. */
  readonly outputBucketArns: string[];
  readonly cognitoRegion?: string;
  readonly cognitoClientId?: string;
  readonly executionTableName: pulumi.Output<string>;
  readonly secretsKmsKeyArn?: pulumi.Output<string>;
  readonly llmGovernorFunctionArn?: pulumi.Output<string>;
  /** The governed Messages API processors reach (ANTHROPIC_BASE_URL); absent in compliant mode (no Function URL) and without LLM access. */
  readonly llmBaseUrl?: pulumi.Output<string>;
  readonly llmUsageTableName?: pulumi.Output<string>;
  readonly gpuCapacityProvider?: pulumi.Output<string>;
  readonly assignPublicIp: boolean;
  readonly environment: string;
  /** The config's own tags, which the runtime adds to what it registers (beside the cost-allocation tags). */
  readonly userTags: Record<string, string>;

  constructor(name: string, args: ComputeNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("compute-node:index:ComputeNode", name, {}, opts);
    const config = args.config;
    const tags = nodeTags({ computeNodeId: config.computeNodeId, environment: config.environment, userTags: config.tags, mode: config.mode });
    const keys = config.mode === "basic" ? undefined : createKeys(name, config.computeNodeId, config.region, tags, this);
    const keyArn = (purpose: KeyPurpose) => keys?.[purpose].arn;

    const network = createNetwork(name, config, tags, this, keyArn("logs"));
    const storage = createStorage(name, config.computeNodeId, network, { efs: keys?.efs, s3: keys?.s3, logs: keys?.logs }, tags, this);
    const { cluster, gpuCapacityProvider } = createCluster(name, config, network, tags, this);
    const executionTable = new aws.dynamodb.Table(
      `${name}-executions`,
      {
        name: `cn-${config.computeNodeId}-executions`,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "executionId",
        attributes: [{ name: "executionId", type: "S" }],
        serverSideEncryption: keys ? { enabled: true, kmsKeyArn: keys.s3.arn } : { enabled: true },
        pointInTimeRecovery: { enabled: true },
        tags,
      },
      { parent: this },
    );
    const joinTable = createJoinTable(name, config.computeNodeId, keyArn("s3"), tags, this);
    const envFileBucket = createEnvFileBucket(name, config.computeNodeId, keyArn("s3"), tags, this);

    const identity = pulumi.output(aws.getCallerIdentity({}, { parent: this }));
    const partition = pulumi.output(aws.getPartition({}, { parent: this }));
    // Named before the function exists, so the processor roles' grant and the governor's own check of those roles need no cycle.
    const llmGovernorArn = config.enableLLMAccess
      ? pulumi.interpolate`arn:${partition.partition}:lambda:${config.region}:${identity.accountId}:function:${llmGovernorFunctionName(config.computeNodeId)}`
      : undefined;
    const roles = createRoles(
      name,
      {
        computeNodeId: config.computeNodeId,
        region: config.region,
        accountId: identity.accountId,
        partition: partition.partition,
        fileSystemArn: storage.fileSystem.arn,
        accessPointArn: storage.accessPoint.arn,
        logGroupArn: storage.logGroup.arn,
        archiveBucketArn: storage.archiveBucket.arn,
        envFileBucketArn: envFileBucket.arn,
        executionTableArn: executionTable.arn,
        joinTableArn: joinTable.arn,
        lambdaProcessors: config.mode !== "compliant",
        privateNetwork: config.mode !== "basic",
        inputBucketArns: config.inputBucketArns,
        outputBucketArns: config.outputBucketArns,
        keys: keys ? { s3: keys.s3.arn, secrets: keys.secrets.arn } : undefined,
        llmGovernorFunctionArn: llmGovernorArn,
        llmUsageTableName: config.enableLLMAccess ? llmUsageTableName(config.computeNodeId) : undefined,
      },
      tags,
      this,
    );
    const llm = config.enableLLMAccess
      ? createLlmGovernor(
          name,
          {
            config,
            network,
            executionTable,
            processorRoles: config.mode === "compliant" ? [roles.taskRole] : [roles.taskRole, roles.lambdaExecutionRole],
            accountId: identity.accountId,
            partition: partition.partition,
            keys: keys ? { tables: keys.s3.arn, logs: keys.logs.arn, environment: keys.secrets.arn } : undefined,
            tags,
          },
          this,
        )
      : undefined;
    const functions = createFunctions(
      name,
      {
        computeNodeId: config.computeNodeId,
        network,
        storage,
        dataTransferRole: roles.dataTransferRole,
        finalizeRole: roles.finalizeRole,
        joinRole: roles.joinRole,
        tokensRole: roles.tokensRole,
        envFileBucket: envFileBucket.bucket,
        cognito: config.cognito,
        executionTableName: executionTable.name,
        joinTableName: joinTable.name,
        logsKeyArn: keyArn("logs"),
        environmentKeyArn: keyArn("secrets"),
        privateNetwork: config.mode !== "basic",
        llmUsageTableName: config.enableLLMAccess ? llmUsageTableName(config.computeNodeId) : undefined,
        tags,
      },
      this,
    );
    // Step Functions skips Catch on StopExecution, TIMED_OUT and ABORTED: this rule brings finalize (and token revocation) to those runs.
    createStopRule(name, { computeNodeId: config.computeNodeId, region: config.region, accountId: identity.accountId, partition: partition.partition, finalize: functions.finalize, tags }, this);
    if (config.budget)
      new aws.budgets.Budget(
        `${name}-budget`,
        {
          budgetType: "COST",
          limitAmount: String(config.budget.monthlyUsd),
          limitUnit: "USD",
          timeUnit: "MONTHLY",
          costFilters: [{ name: "TagKeyValue", values: [`user:${TAG.node}$${config.computeNodeId}`] }],
          tags,
          notifications: [{ comparisonOperator: "GREATER_THAN", threshold: 80, thresholdType: "PERCENTAGE", notificationType: "FORECASTED", subscriberEmailAddresses: config.budget.alertEmails }],
        },
        { parent: this },
      );
    // Depends on everything a runtime-created Lambda ENI or task can hold on to, so destroy runs it first.
    new NodeDestroyHook(
      `${name}-destroy-hook`,
      { computeNodeId: config.computeNodeId, region: config.region, force: config.forceDestroy },
      { parent: this, dependsOn: [...network.attachments, ...storage.mountTargets, storage.accessPoint, cluster, roles.lambdaExecutionRole, roles.stateMachineRole, roles.taskRole, roles.taskExecutionRole] },
    );

    this.computeNodeId = config.computeNodeId;
    this.deploymentMode = config.mode;
    this.region = config.region;
    this.environment = config.environment;
    this.userTags = config.tags;
    this.assignPublicIp = network.assignPublicIp;
    this.clusterArn = cluster.arn;
    this.subnetIds = network.subnetIds;
    this.securityGroupIds = pulumi.output([network.processorSecurityGroup.id]);
    this.efsFileSystemId = storage.fileSystem.id;
    this.efsAccessPointArn = storage.accessPoint.arn;
    this.taskExecutionRoleArn = roles.taskExecutionRole.arn;
    this.taskRoleArn = roles.taskRole.arn;
    this.stateMachineRoleArn = roles.stateMachineRole.arn;
    this.lambdaExecutionRoleArn = roles.lambdaExecutionRole.arn;
    this.logGroupName = storage.logGroup.name;
    this.logArchiveBucket = storage.archiveBucket.bucket;
    this.dataTransferFunctionArn = functions.dataTransfer.arn;
    this.finalizeFunctionArn = functions.finalize.arn;
    this.joinFunctionArn = functions.join.arn;
    this.joinTableName = joinTable.name;
    this.tokensFunctionArn = functions.tokens.arn;
    this.envFileBucket = envFileBucket.bucket;
    this.outputBucketArns = config.outputBucketArns;
    this.cognitoRegion = config.cognito?.region;
    this.cognitoClientId = config.cognito?.clientId;
    this.executionTableName = executionTable.name;
    this.secretsKmsKeyArn = keys?.secrets.arn;
    this.llmGovernorFunctionArn = llm?.governor.arn;
    this.llmBaseUrl = llm?.url?.functionUrl;
    this.llmUsageTableName = llm?.usageTable.name;
    this.gpuCapacityProvider = gpuCapacityProvider;
    this.registerOutputs(this.outputs());
  }

  /** The stack outputs the runtime reads (NodeOutputsSchema), and no secret. */
  outputs(): Record<string, pulumi.Input<unknown>> {
    const optional = {
      secretsKmsKeyArn: this.secretsKmsKeyArn,
      llmGovernorFunctionArn: this.llmGovernorFunctionArn,
      llmBaseUrl: this.llmBaseUrl,
      llmUsageTableName: this.llmUsageTableName,
      gpuCapacityProvider: this.gpuCapacityProvider,
      // Not secret: a public app client's id, as a web page would embed it.
      cognitoRegion: this.cognitoRegion,
      cognitoClientId: this.cognitoClientId,
    };
    return {
      computeNodeId: this.computeNodeId,
      deploymentMode: this.deploymentMode,
      region: this.region,
      environment: this.environment,
      tags: this.userTags,
      assignPublicIp: this.assignPublicIp,
      clusterArn: this.clusterArn,
      subnetIds: this.subnetIds,
      securityGroupIds: this.securityGroupIds,
      efsFileSystemId: this.efsFileSystemId,
      efsAccessPointArn: this.efsAccessPointArn,
      taskExecutionRoleArn: this.taskExecutionRoleArn,
      taskRoleArn: this.taskRoleArn,
      stateMachineRoleArn: this.stateMachineRoleArn,
      lambdaExecutionRoleArn: this.lambdaExecutionRoleArn,
      logGroupName: this.logGroupName,
      logArchiveBucket: this.logArchiveBucket,
      dataTransferFunctionArn: this.dataTransferFunctionArn,
      finalizeFunctionArn: this.finalizeFunctionArn,
      joinFunctionArn: this.joinFunctionArn,
      joinTableName: this.joinTableName,
      tokensFunctionArn: this.tokensFunctionArn,
      envFileBucket: this.envFileBucket,
      outputBucketArns: this.outputBucketArns,
      executionTableName: this.executionTableName,
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    };
  }
}
