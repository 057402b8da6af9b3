import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { lambdaFunctionPrefix, stateMachinePrefix, taskDefinitionPrefix } from "../model/names";
import { assumeRole } from "./network";
import { ENV_FILE_PREFIX } from "../integrations/tokens/contract";
import { TAG } from "../model/tags";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface NodeRoles {
  taskExecutionRole: aws.iam.Role;
  taskRole: aws.iam.Role;
  stateMachineRole: aws.iam.Role;
  lambdaExecutionRole: aws.iam.Role;
  dataTransferRole: aws.iam.Role;
  finalizeRole: aws.iam.Role;
  joinRole: aws.iam.Role;
  tokensRole: aws.iam.Role;
}

export interface RoleScope {
  computeNodeId: string;
  region: string;
  accountId: pulumi.Input<string>;
  partition: pulumi.Input<string>;
  fileSystemArn: pulumi.Input<string>;
  accessPointArn: pulumi.Input<string>;
  logGroupArn: pulumi.Input<string>;
  archiveBucketArn: pulumi.Input<string>;
  /** The bucket of the executions' environment files (lib/integrations/tokens/node.ts). */
  envFileBucketArn: pulumi.Input<string>;
  executionTableArn: pulumi.Input<string>;
  joinTableArn: pulumi.Input<string>;
  /** Compliant mode runs no Lambda processors: their role gets no permission and Step Functions may not invoke them. */
  lambdaProcessors: boolean;
  /** See FunctionArgs.privateNetwork. */
  privateNetwork: boolean;
  inputBucketArns: string[];
  /** Buckets (or bucket/prefix) the upload step may put results in (NodeConfig.outputBucketArns). */
  outputBucketArns: string[];
  /** Customer-managed keys (secure and compliant): each role gets only those it encrypts or decrypts with. */
  keys?: { s3: pulumi.Input<string>; secrets: pulumi.Input<string> };
  /** With LLM access: the governor processors may call (Function URL or InvokeWithResponseStream), and nothing of Bedrock itself. */
  llmGovernorFunctionArn?: pulumi.Input<string>;
  /** With LLM access: the usage table, whose per-execution totals finalize's cost report reads (`readExecutionLlmTotals`). */
  llmUsageTableName?: string;
}

// Lambda's VPC networking creates ENIs on the function's behalf; AWS does not support resource scoping for these actions.
const VPC_ENI_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"];

/** Least-privilege roles of a node: every statement names this node's resources or name prefixes. */
export function createRoles(name: string, scope: RoleScope, tags: Record<string, string>, parent: pulumi.Resource): NodeRoles {
  const role = (suffix: string, service: string, kind: string) =>
    new aws.iam.Role(`${name}-${suffix}`, { assumeRolePolicy: assumeRole(service), tags: { ...tags, [TAG.role]: kind } }, { parent });
  const attach = (suffix: string, target: aws.iam.Role, statements: pulumi.Output<Statement[]>) =>
    new aws.iam.RolePolicy(`${name}-${suffix}-policy`, { role: target.id, policy: statements.apply((s) => JSON.stringify({ Version: "2012-10-17", Statement: s })) }, { parent });

  const taskExecutionRole = role("task-execution-role", "ecs-tasks.amazonaws.com", "task-execution");
  const taskRole = role("task-role", "ecs-tasks.amazonaws.com", "processor");
  const stateMachineRole = role("state-machine-role", "states.amazonaws.com", "state-machine");
  const lambdaExecutionRole = role("lambda-processor-role", "lambda.amazonaws.com", "processor");
  const dataTransferRole = role("data-transfer-role", "lambda.amazonaws.com", "data-transfer");
  const finalizeRole = role("finalize-role", "lambda.amazonaws.com", "finalize");
  const joinRole = role("join-role", "lambda.amazonaws.com", "join");
  const tokensRole = role("tokens-role", "lambda.amazonaws.com", "tokens");

  const s = pulumi.output(scope);
  const arn = (service: string, resource: string) => s.apply((v) => `arn:${v.partition}:${service}:${v.region}:${v.accountId}:${resource}`);
  const node = scope.computeNodeId;
  const efsClient = s.apply((v): Statement => ({
    Effect: "Allow",
    Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
    Resource: v.fileSystemArn,
    Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": v.accessPointArn } },
  }));
  // EFS and CloudWatch Logs encrypt server-side with no caller permission; S3 objects, table items,
  // token secrets and Lambda environments need the caller's kms:Decrypt / GenerateDataKey.
  const kmsFor = (purposes: ("s3" | "secrets")[]) =>
    s.apply((v): Statement[] => (v.keys ? [{ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: purposes.map((p) => v.keys![p]) }] : []));
  // Processors reach Bedrock only through the governor: its Function URL (IAM auth) or a streaming invoke (which IAM authorizes as lambda:InvokeFunction).
  const llm = s.apply((v): Statement[] =>
    v.llmGovernorFunctionArn
      ? [
          { Sid: "CallLlmGovernorUrl", Effect: "Allow", Action: ["lambda:InvokeFunctionUrl"], Resource: v.llmGovernorFunctionArn, Condition: { StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } } },
          { Sid: "InvokeLlmGovernor", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: v.llmGovernorFunctionArn },
        ]
      : [],
  );
  const ownLogs = (fn: pulumi.Input<string>) =>
    pulumi.all([arn("logs", "log-group:/aws/lambda/"), fn]).apply(([prefix, f]): Statement => ({ Effect: "Allow", Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${prefix}${f}*` }));
  const eni: Statement = { Effect: "Allow", Action: VPC_ENI_ACTIONS, Resource: "*" };

  // The ECS agent fetches each task's environment file (its tokens) with this role: this node's files only.
  const envFiles = s.envFileBucketArn.apply((bucketArn) => ({ bucket: bucketArn, files: `${bucketArn}/${ENV_FILE_PREFIX}${node}/*` }));
  attach(
    "task-execution-role",
    taskExecutionRole,
    pulumi.all([s.logGroupArn, envFiles, s.apply((v) => v.keys?.s3)]).apply(([logGroupArn, env, s3Key]): Statement[] => [
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: "*" },
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
      { Sid: "ReadExecutionEnvFiles", Effect: "Allow", Action: ["s3:GetObject"], Resource: env.files },
      { Sid: "LocateEnvFileBucket", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: env.bucket },
      ...(s3Key ? [{ Effect: "Allow" as const, Action: ["kms:Decrypt"], Resource: s3Key }] : []),
    ]),
  );
  attach(
    "tokens-role",
    tokensRole,
    pulumi.all([kmsFor(["s3", "secrets"]), ownLogs(`cn-${node}-tokens`), arn("secretsmanager", `secret:cn/${node}/*`), envFiles]).apply(([k, logs, secrets, env]): Statement[] => [
      // No EFS: in the VPC only where the VPC has a private way to Secrets Manager and S3 (as finalize).
      ...(scope.privateNetwork ? [eni] : []),
      logs,
      // Reads an execution's tokens and writes refreshed ones back; creating and deleting secrets is not its job.
      { Sid: "RefreshExecutionTokens", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], Resource: secrets },
      { Sid: "WriteExecutionEnvFiles", Effect: "Allow", Action: ["s3:PutObject"], Resource: env.files },
      ...k,
    ]),
  );
  attach("task-role", taskRole, pulumi.all([efsClient, llm]).apply(([e, l]) => [e, ...l]));
  // Lambda processors log to the node's group through LoggingConfig (lib/runtime/aws/README.md).
  if (scope.lambdaProcessors)
    attach(
      "lambda-processor-role",
      lambdaExecutionRole,
      pulumi.all([efsClient, llm, ownLogs(lambdaFunctionPrefix(node)), s.logGroupArn]).apply(([e, l, logs, logGroupArn]): Statement[] => [
        eni,
        e,
        logs,
        { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` },
        ...l,
      ]),
    );
  attach(
    "data-transfer-role",
    dataTransferRole,
    pulumi.all([efsClient, kmsFor(["secrets"]), ownLogs(`cn-${node}-data-transfer`), s.inputBucketArns, s.outputBucketArns]).apply(([e, k, logs, buckets, outputs]): Statement[] => [
      eni,
      { ...e, Action: [...e.Action, "elasticfilesystem:ClientRootAccess"] },
      logs,
      ...k,
      ...(buckets.length ? [{ Effect: "Allow" as const, Action: ["s3:GetObject", "s3:ListBucket"], Resource: buckets.flatMap((b) => [b, `${b}/*`]) }] : []),
      // Objects only, below the allowed prefixes: no listing, reading or deleting of what is there.
      ...(outputs.length
        ? [{ Sid: "UploadOutputs", Effect: "Allow" as const, Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: outputs.map((b) => `${b.replace(/\/+$/, "")}/*`) }]
        : []),
    ]),
  );
  attach(
    "finalize-role",
    finalizeRole,
    pulumi
      .all([
        kmsFor(["s3", "secrets"]),
        ownLogs(`cn-${node}-finalize`),
        s.logGroupArn,
        s.archiveBucketArn,
        s.executionTableArn,
        arn("secretsmanager", `secret:cn/${node}/*`),
        arn("states", `execution:${stateMachinePrefix(node)}*`),
        arn("states", `mapRun:${stateMachinePrefix(node)}*`),
      ])
      .apply(([k, logs, logGroupArn, bucketArn, tableArn, secrets, executions, mapRuns]): Statement[] => [
        // Finalize mounts no EFS; it joins the VPC only where the VPC has a private way to AWS services.
        ...(scope.privateNetwork ? [eni] : []),
        logs,
        { Effect: "Allow", Action: ["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams"], Resource: [logGroupArn, `${logGroupArn}:*`] },
        // The execution's history (children and map-run iterations `execution:<machine>/<label>:<id>` included)
        // names its ECS tasks and Lambda invocations, whose logs are archived per processor.
        // DescribeExecution: the stop rule's events may carry no (or a truncated) input, which names the run.
        { Sid: "ReadExecutionHistory", Effect: "Allow", Action: ["states:GetExecutionHistory", "states:DescribeExecution"], Resource: executions },
        { Sid: "ListMapRunIterations", Effect: "Allow", Action: ["states:ListExecutions"], Resource: mapRuns },
        { Effect: "Allow", Action: ["s3:PutObject"], Resource: `${bucketArn}/*` },
        // After a stop, finalize checks whether the cost report exists already (HeadObject: GetObject, and ListBucket so a missing one
        // answers 404, not 403). No s3:prefix condition: HeadObject carries no prefix, so such a condition would never match. The bucket is this node's own.
        { Sid: "SeeFinalizedExecutions", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${bucketArn}/executions/${node}/*` },
        { Sid: "ListFinalizedExecutions", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn },
        // Cost report, and the execution's token secret deleted as soon as the run ends.
        { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: tableArn },
        // After a stop, finalize moves the record to its terminal status (a conditional PutItem of the whole item, as the runtime's store writes it).
        { Sid: "RecordStoppedExecutions", Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: tableArn },
        // The cost report's LLM line: the execution's totals item of the usage table.
        ...(scope.llmUsageTableName ? [{ Sid: "ReadLlmTotals", Effect: "Allow" as const, Action: ["dynamodb:GetItem"], Resource: tableArn.replace(/table\/[^/]+$/, `table/${scope.llmUsageTableName}`) }] : []),
        { Effect: "Allow", Action: ["secretsmanager:DeleteSecret"], Resource: secrets },
        ...k,
      ])
      // The execution's environment file goes with its secret.
      // After a stop, the skipped Cleanup state: the data-transfer function (which mounts EFS) removes the execution's dirs.
      .apply((statements) =>
        pulumi.all([envFiles, arn("lambda", `function:cn-${node}-data-transfer`)]).apply(([e, dataTransfer]): Statement[] => [
          ...statements,
          { Sid: "DeleteExecutionEnvFiles", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: e.files },
          { Sid: "CleanUpStoppedExecutions", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: dataTransfer },
        ]),
      ),
  );
  attach(
    "join-role",
    joinRole,
    pulumi.all([kmsFor(["s3", "secrets"]), ownLogs(`cn-${node}-join`), s.joinTableArn]).apply(([k, logs, tableArn]): Statement[] => [
      // Like finalize: no EFS, so in the VPC only where the VPC has a private way to DynamoDB and Step Functions.
      ...(scope.privateNetwork ? [eni] : []),
      logs,
      { Sid: "JoinItems", Effect: "Allow", Action: ["dynamodb:UpdateItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], Resource: tableArn },
      // The Service Authorization Reference lists no resource type for SendTaskSuccess/SendTaskFailure, so they
      // accept only "*"; the task token itself (unguessable, issued to this node's machines) scopes the call.
      { Sid: "ReleaseWaitingUnits", Effect: "Allow", Action: ["states:SendTaskSuccess", "states:SendTaskFailure"], Resource: "*" },
      ...k,
    ]),
  );
  attach(
    "state-machine-role",
    stateMachineRole,
    pulumi
      .all([
        arn("ecs", `task-definition/${taskDefinitionPrefix(node)}*`),
        arn("lambda", `function:${lambdaFunctionPrefix(node)}*`),
        arn("lambda", `function:cn-${node}-*`),
        arn("secretsmanager", `secret:cn/${node}/*`),
        arn("states", `stateMachine:${stateMachinePrefix(node)}*`),
        arn("states", `execution:${stateMachinePrefix(node)}*`),
        arn("events", "rule/StepFunctionsGetEventsFor*"),
        arn("ecs", `task/*`),
        taskExecutionRole.arn,
        taskRole.arn,
      ])
      .apply(([taskDefs, procLambdas, nodeLambdas, secrets, machines, executions, rules, tasks, execRole, procRole]): Statement[] => [
        { Sid: "RunProcessorTasks", Effect: "Allow", Action: ["ecs:RunTask"], Resource: taskDefs },
        { Sid: "TrackProcessorTasks", Effect: "Allow", Action: ["ecs:StopTask", "ecs:DescribeTasks"], Resource: tasks },
        // RunTask's PropagateTags tags the task as it is created, which ECS authorizes as TagResource on that RunTask only.
        { Sid: "TagProcessorTasks", Effect: "Allow", Action: ["ecs:TagResource"], Resource: tasks, Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } } },
        { Sid: "PassProcessorRoles", Effect: "Allow", Action: ["iam:PassRole"], Resource: [execRole, procRole], Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } },
        // cn-<node>-* covers the node's own functions: data-transfer, finalize, tokens and join (exact mode's waits, releases and aborts).
        { Sid: "InvokeNodeLambdas", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: scope.lambdaProcessors ? [procLambdas, nodeLambdas] : [nodeLambdas] },
        // A Lambda processor's ResolveToken reads the secret into its payload; a node without Lambda processors needs no token at all.
        ...(scope.lambdaProcessors ? [{ Sid: "ReadExecutionTokens", Effect: "Allow" as const, Action: ["secretsmanager:GetSecretValue"], Resource: secrets }] : []),
        { Sid: "RunChildMachines", Effect: "Allow", Action: ["states:StartExecution"], Resource: machines },
        { Sid: "TrackChildMachines", Effect: "Allow", Action: ["states:DescribeExecution", "states:StopExecution"], Resource: executions },
        // .sync integrations poll through EventBridge managed rules with these fixed names.
        { Sid: "SyncIntegrationRules", Effect: "Allow", Action: ["events:PutTargets", "events:PutRule", "events:DescribeRule"], Resource: rules },
        // Log delivery APIs accept no resource scoping (Step Functions logging documentation).
        {
          Sid: "ExecutionLogging",
          Effect: "Allow",
          Action: ["logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"],
          Resource: "*",
        },
      ])
      .apply((statements) => kmsFor(["secrets"]).apply((k) => [...statements, ...k])),
  );
  return { taskExecutionRole, taskRole, stateMachineRole, lambdaExecutionRole, dataTransferRole, finalizeRole, joinRole, tokensRole };
}
