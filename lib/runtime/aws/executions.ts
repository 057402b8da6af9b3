import { createHash } from "node:crypto";
import { CreateSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { compileWorkflow, CompiledWorkflow, CompileOptions } from "../../compile";
import { AslStateMachine } from "../../compile/asl/types";
import { NodeOutputs } from "../../model/node-outputs";
import { assertExecutionIds } from "../../model/ids";
import { ExecutionRecord } from "../../model/execution-record";
import { ExecutionRecordStore } from "../../model/record-store";
import { ResolvedPlan } from "../../plan/resolve";
import { executionSnapshot } from "../../plan/snapshot";
import { ValidationError } from "../../errors";
import { ExecutionTokens, tokenSecretName, tokenSecretString } from "../../integrations/tokens/contract";
import { deleteTokenSecret } from "../../integrations/tokens/aws";
import { newExecutionId } from "../execution-id";
import { AwsClients } from "./clients";
import { awsErrorName, isAlreadyExists, toRuntimeError } from "./errors";
import { canonicalJson, resourceTags, TAG_NODE, TAG_WORKFLOW } from "./node";
import { TAG } from "../../model/tags";
import { registerTaskDefinitions } from "./register-ecs";
import { releaseUnusedResources } from "./cleanup";
import { registerLambdaFunctions } from "./register-lambda";
import { deployStateMachines, workflowMachineArns } from "./state-machines";
import { systemClock } from "../../clock";
import { changeRecorder, PlannedChange } from "./changes";
import { resolveOutputDestination } from "../../model/invocation";
import { isS3Destination, splitS3Uri } from "../../model/destination-patterns";

export interface DeployWorkflowOptions {
  node: NodeOutputs;
  /** Resolved for the node's mode; its `computeNodeId` is ignored in favour of the node's. */
  plan: ResolvedPlan;
  clients: AwsClients;
  /** Compile options other than the target (hints, structure, limits). */
  compile?: Omit<CompileOptions, "target">;
  /** Only read what exists and report in `changes` what a deploy would create, update, tag or delete: no mutating call is sent. @default false */
  dryRun?: boolean;
}

export interface DeployWorkflowResult {
  /** True when nothing was changed and `changes` is the plan. */
  dryRun: boolean;
  /** Each create, update, tag, publish or delete, in the order made (or, on a dry run, planned). */
  changes: PlannedChange[];
  stateMachineArn: string;
  /** What executions start: the version this deploy published (or the machine where the endpoint has no versions). On a dry run of a changed machine, a placeholder ending `:planned`. */
  startArn: string;
  childStateMachineArns: Record<string, string>;
  /** Processor id → task definition ARN (ECS processors). */
  taskDefinitions: Record<string, string>;
  /** Processor id → function ARN (Lambda processors). */
  lambdaFunctions: Record<string, string>;
  definition: AslStateMachine;
  children: Record<string, AslStateMachine>;
  /** sha256 of the main and child definitions, as in the execution record. */
  definitionHash: string;
  /** AWS calls of this deploy that created, updated, deleted or tagged something: 0 when all was in place. */
  mutatingCalls: number;
}

/**
 * Registers a workflow's processors and creates or updates its state machines (processor-guide
 * "What Happens at Runtime", steps 2–4). Content-addressed throughout: deploying the same workflow
 * again makes no mutating call, and a deploy interrupted half-way is completed by the next one.
 */
export async function deployWorkflow(options: DeployWorkflowOptions): Promise<DeployWorkflowResult> {
  const { node, clients } = options;
  const plan = planForNode(node, options.plan);
  const before = clients.mutations.calls.length;
  const dryRun = !!options.dryRun;
  // One recorder per kind of resource, so concurrent registrations keep a stable order in `changes`.
  const ecs = changeRecorder(dryRun);
  const lambda = changeRecorder(dryRun);
  const rest = changeRecorder(dryRun);
  const [taskDefinitions, lambdaFunctions] = await Promise.all([registerTaskDefinitions({ node, plan, clients, changes: ecs }), registerLambdaFunctions({ node, plan, clients, changes: lambda })]);
  const compiled = compileForNode(node, plan, taskDefinitions, lambdaFunctions, options.compile);
  const machines = await deployStateMachines({ node, workflowName: plan.workflow.name, definition: compiled.definition, children: compiled.children, clients, changes: rest });
  // Only once the machines are updated: what an earlier version of the workflow used (an old image's function) is released.
  await releaseUnusedResources({ computeNodeId: node.computeNodeId, workflowName: plan.workflow.name, keep: [...Object.values(taskDefinitions), ...Object.values(lambdaFunctions)], clients, changes: rest });
  return {
    dryRun,
    changes: [...lambda.changes, ...ecs.changes, ...rest.changes],
    ...machines,
    taskDefinitions,
    lambdaFunctions,
    definition: compiled.definition,
    children: compiled.children,
    definitionHash: definitionHash(compiled),
    mutatingCalls: clients.mutations.calls.length - before,
  };
}

/** The plan bound to the node; an invocation naming another node, or a plan for another mode, is refused before any AWS call. */
function planForNode(node: NodeOutputs, plan: ResolvedPlan): ResolvedPlan {
  const issues = [];
  if (plan.computeNodeId !== undefined && plan.computeNodeId !== node.computeNodeId)
    issues.push({ code: "node_mismatch", path: ["invocation", "workflowInstanceConfiguration", "computeNodeId"], message: `the invocation targets node "${plan.computeNodeId}" but NODE.json is node "${node.computeNodeId}"` });
  if (plan.mode !== node.deploymentMode)
    issues.push({ code: "mode_mismatch", path: ["mode"], message: `the plan was resolved for ${plan.mode} mode but node "${node.computeNodeId}" is ${node.deploymentMode}` });
  // ECS processors get their tokens from an environment file the node's tokens function writes; a node
  // provisioned before it would have them put into the state (and every history event): refuse, fail closed.
  const ecs = plan.processors.filter((p) => p.computeType === "ecs");
  if (ecs.length && (node.tokensFunctionArn === undefined || node.envFileBucket === undefined))
    issues.push({
      code: "node_outdated",
      path: ["node", node.tokensFunctionArn === undefined ? "tokensFunctionArn" : "envFileBucket"],
      message: `node "${node.computeNodeId}" has no tokens function or environment-file bucket in its outputs, which ECS processors (${ecs.slice(0, 5).map((p) => `"${p.id}"`).join(", ")}${ecs.length > 5 ? ", …" : ""}) need to receive their tokens outside the execution's history: update the node (\`pulumi up\` or the provisioning API's PATCH) and save its outputs again`,
    });
  if (issues.length) throw new ValidationError(issues);
  return { ...plan, computeNodeId: node.computeNodeId };
}

/** Compiles for the node's real resources. Child ARNs depend on child names, so a machine with children is compiled twice. */
export function compileForNode(
  node: NodeOutputs,
  plan: ResolvedPlan,
  taskDefinitions: Record<string, string>,
  lambdaFunctions: Record<string, string>,
  options: Omit<CompileOptions, "target"> = {},
): CompiledWorkflow {
  const target = {
    computeNodeId: node.computeNodeId,
    region: node.region,
    clusterArn: node.clusterArn,
    subnetIds: node.subnetIds,
    securityGroupIds: node.securityGroupIds,
    assignPublicIp: node.assignPublicIp ?? false,
    dataTransferFunctionArn: node.dataTransferFunctionArn,
    finalizeFunctionArn: node.finalizeFunctionArn ?? node.dataTransferFunctionArn,
    ...(node.joinFunctionArn !== undefined ? { joinFunctionArn: node.joinFunctionArn } : {}),
    ...(node.tokensFunctionArn !== undefined ? { tokensFunctionArn: node.tokensFunctionArn } : {}),
    ...(node.envFileBucket !== undefined ? { envFileBucket: node.envFileBucket } : {}),
    refreshTokens: node.cognitoClientId !== undefined,
    taskDefinitions,
    lambdaFunctions,
    efsMountPath: "/mnt/efs",
  };
  // A node provisioned before exact mode has no join function: compile without exact mode rather than call a missing Lambda.
  const compileOptions = { ...options, exactAvailable: options.exactAvailable !== false && node.joinFunctionArn !== undefined };
  const first = compileWorkflow(plan, { ...compileOptions, target: { ...target, childStateMachineArns: {} } });
  const childNames = Object.keys(first.children);
  if (childNames.length === 0) return first;
  return compileWorkflow(plan, { ...compileOptions, target: { ...target, childStateMachineArns: workflowMachineArns(node, plan.workflow.name, childNames).children } });
}

export function definitionHash(compiled: Pick<CompiledWorkflow, "definition" | "children">): string {
  return createHash("sha256").update(canonicalJson({ definition: compiled.definition, children: compiled.children })).digest("hex");
}

export interface StartWorkflowExecutionOptions extends Omit<DeployWorkflowOptions, "dryRun"> {
  store: ExecutionRecordStore;
  /** Written to the execution's own secret, never to its input. @default PENNSIEVE_SESSION_TOKEN / PENNSIEVE_REFRESH_TOKEN of `env` */
  tokens?: ExecutionTokens;
  env?: NodeJS.ProcessEnv;
  /** What DownloadInputs copies into the input dir (`s3://…` URIs). @default none */
  inputs?: string[];
  /** @default a new `wi-<time>-<random>` id; also the Step Functions execution name */
  workflowInstanceId?: string;
  now?: () => Date;
}

export interface StartWorkflowExecutionResult {
  executionId: string;
  executionArn: string;
  stateMachineArn: string;
  record: ExecutionRecord;
  deploy: DeployWorkflowResult;
}

/**
 * Deploys, writes the immutable execution record and the per-execution token secret, then starts
 * the execution. If starting fails, the secret is deleted and the record ends FAILED, so nothing
 * that holds a token outlives a run that never began.
 */
export async function startWorkflowExecution(options: StartWorkflowExecutionOptions): Promise<StartWorkflowExecutionResult> {
  const { node, clients, store } = options;
  const now = options.now ?? systemClock;
  const workflowInstanceId = options.workflowInstanceId ?? newExecutionId(now());
  assertExecutionIds({ workflowInstanceId, computeNodeId: node.computeNodeId }, { computeNodeId: ["node", "computeNodeId"] });
  const env = options.env ?? process.env;
  const tokens = options.tokens ?? { sessionToken: env.PENNSIEVE_SESSION_TOKEN ?? "", refreshToken: env.PENNSIEVE_REFRESH_TOKEN ?? "" };
  const plan = planForNode(node, options.plan);
  // Checked before anything is deployed or written: a run whose results could not be delivered must not start.
  const outputs = plan.invocation.outputs === undefined ? undefined : awsOutputDestination(node, resolveOutputDestination(plan.invocation.outputs, { workflowInstanceId }));

  const deploy = await deployWorkflow({ node, plan, clients, compile: options.compile });
  const record: ExecutionRecord = {
    executionId: workflowInstanceId,
    workflowInstanceId,
    backend: "aws",
    computeNodeId: node.computeNodeId,
    stateMachineArn: deploy.stateMachineArn,
    createdAt: now().toISOString(),
    snapshot: executionSnapshot(plan, deploy.definitionHash),
    status: "PENDING",
    processors: Object.fromEntries(plan.processors.map((p) => [p.id, { status: "NOT_STARTED" as const }])),
  };
  await store.create(record);

  let secretArn: string | undefined;
  let started: { executionArn?: string; startDate?: Date };
  try {
    secretArn = await writeTokenSecret(clients, node, plan.workflow.name, workflowInstanceId, tokens);
    const input = {
      workflowInstanceId,
      computeNodeId: node.computeNodeId,
      tokenSecretId: secretArn,
      ...(plan.invocation.datasetId ? { datasetId: plan.invocation.datasetId } : {}),
      packageIds: plan.invocation.packageIds,
      ...(options.inputs?.length ? { inputs: options.inputs } : {}),
      ...(outputs ? { outputs } : {}),
    };
    started = await clients.limits.run("sfn:StartExecution", () =>
      clients.sfn.send(new StartExecutionCommand({ stateMachineArn: deploy.startArn, name: workflowInstanceId, input: JSON.stringify(input) })),
    );
  } catch (err) {
    if (secretArn) await deleteTokenSecret(clients.secrets, secretArn, { limit: (call) => clients.limits.run("secretsmanager:DeleteSecret", call) }).catch(() => undefined);
    const failure = toRuntimeError(err, `starting execution ${workflowInstanceId}`);
    await store.updateExecution(workflowInstanceId, { status: "FAILED", finishedAt: now().toISOString(), error: { error: awsErrorName(err) ?? "StartFailed", cause: failure.message } }).catch(() => undefined);
    throw failure;
  }
  // The execution runs from here on: a failure to record its ARN must not touch its secret. The next
  // status read finds the execution by its deterministic ARN (tracking's adoptUnconfirmedStart).
  const updated = await store.updateExecution(workflowInstanceId, { status: "RUNNING", executionArn: started.executionArn, startedAt: (started.startDate ?? now()).toISOString() });
  return { executionId: workflowInstanceId, executionArn: started.executionArn!, stateMachineArn: deploy.stateMachineArn, record: updated, deploy };
}

/**
 * An invocation's `outputs` on AWS: an s3:// destination inside one of the node's
 * `outputBucketArns` (the data-transfer function may put objects there and nowhere else), so a
 * run that could not deliver its results is refused before it starts rather than at its end.
 */
export function awsOutputDestination(node: Pick<NodeOutputs, "computeNodeId" | "outputBucketArns">, destination: string): string {
  const field = ["invocation", "outputs"];
  if (!isS3Destination(destination))
    throw new ValidationError([{ code: "outputs_not_s3", path: field, message: `outputs "${destination}" is a directory: runs on AWS upload only to s3://bucket/prefix/ destinations` }]);
  const { bucket, key } = splitS3Uri(destination);
  const allowed = node.outputBucketArns ?? [];
  const covered = allowed.some((arn) => {
    const [allowedBucket, ...prefix] = arn.replace(/^arn:[^:]+:s3:::/, "").replace(/\/+$/, "").split("/");
    const allowedPrefix = prefix.length ? `${prefix.join("/")}/` : "";
    return allowedBucket === bucket && (key + (key.endsWith("/") || key === "" ? "" : "/")).startsWith(allowedPrefix);
  });
  if (!covered)
    throw new ValidationError([
      {
        code: "outputs_not_allowed",
        path: field,
        message:
          `compute node "${node.computeNodeId}" may not upload to ${destination}: ` +
          (allowed.length ? `its outputBucketArns allow only ${allowed.join(", ")}` : "its node config has no outputBucketArns") +
          `; add arn:aws:s3:::${bucket}${key ? `/${key.replace(/\/$/, "")}` : ""} to outputBucketArns and run \`compute-node node up\``,
      },
    ]);
  return key === "" || key.endsWith("/") ? destination : `${destination}/`;
}

async function writeTokenSecret(clients: AwsClients, node: NodeOutputs, workflowName: string, workflowInstanceId: string, tokens: ExecutionTokens): Promise<string> {
  const name = tokenSecretName(node.computeNodeId, workflowInstanceId);
  const secretString = tokenSecretString(tokens);
  const tags = { ...resourceTags(node, workflowName), [TAG.execution]: workflowInstanceId };
  try {
    const out = await clients.limits.run("secretsmanager:CreateSecret", () =>
      clients.secrets.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: secretString,
          // Secure and compliant nodes encrypt secrets with their own key; basic nodes use the AWS-managed one.
          ...(node.secretsKmsKeyArn ? { KmsKeyId: node.secretsKmsKeyArn } : {}),
          Description: `Pennsieve tokens of workflow execution ${workflowInstanceId}`,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    return out.ARN!;
  } catch (err) {
    // A retried start with the same id: the secret exists from the first attempt.
    if (!isAlreadyExists(err)) throw err;
    const out = await clients.limits.run("secretsmanager:PutSecretValue", () => clients.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretString })));
    return out.ARN!;
  }
}

export { TAG_NODE, TAG_WORKFLOW };
