import { DeleteTaskDefinitionsCommand, DeregisterTaskDefinitionCommand, DescribeTaskDefinitionCommand, ListTaskDefinitionFamiliesCommand, ListTaskDefinitionsCommand, UntagResourceCommand as EcsUntag } from "@aws-sdk/client-ecs";
import { DeleteFunctionCommand, ListFunctionsCommand, ListTagsCommand, UntagResourceCommand as LambdaUntag } from "@aws-sdk/client-lambda";
import { DeleteStateMachineCommand, ListExecutionsCommand, ListStateMachinesCommand, ListTagsForResourceCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand } from "@aws-sdk/client-ec2";
import { ListSecretsCommand } from "@aws-sdk/client-secrets-manager";
import { ConflictError } from "../../errors";
import { lambdaFunctionPrefix, stateMachineName, stateMachinePrefix, taskDefinitionPrefix } from "../../model/names";
import { AwsClients, createAwsClients } from "./clients";
import { isEcsClientException, isNetworkInterfaceInUse, isNotFound, isUnsupportedOperation, toRuntimeError } from "./errors";
import { TAG_NODE, TAG_WORKFLOW_USE_PREFIX, workflowUseTag } from "./node";
import { deleteTokenSecret } from "../../integrations/tokens/aws";
import { tokenSecretPrefix } from "../../integrations/tokens/contract";
import { ChangeRecorder } from "./changes";

export interface CleanupResult {
  deletedFunctions: string[];
  deletedStateMachines: string[];
  /** Task definition revisions deregistered (and deleted where the API allows). */
  deregisteredTaskDefinitions: string[];
  deletedNetworkInterfaces: string[];
  /** Lambda VPC ENIs still attached: Lambda releases them some minutes after the function is deleted. */
  pendingNetworkInterfaces: string[];
  deletedSecrets: string[];
  /** Executions stopped because `force` was given. */
  stoppedExecutions: string[];
  /** Tags removed from resources other workflows still use. */
  releasedResources: string[];
  mutatingCalls: number;
  /** Set on a dry run: nothing was sent, and the lists above are what a cleanup would delete, stop and release. */
  dryRun?: true;
}

export interface CleanupNodeOptions {
  computeNodeId: string;
  region: string;
  endpoint?: string;
  /** Stop running executions instead of refusing. @default false */
  force?: boolean;
  /** Only list what would be deleted (and stopped, with `force`): no mutating call is sent. @default false */
  dryRun?: boolean;
  clients?: AwsClients;
}

const emptyResult = (dryRun?: boolean): CleanupResult => ({
  ...(dryRun ? { dryRun: true as const } : {}),
  deletedFunctions: [],
  deletedStateMachines: [],
  deregisteredTaskDefinitions: [],
  deletedNetworkInterfaces: [],
  pendingNetworkInterfaces: [],
  deletedSecrets: [],
  stoppedExecutions: [],
  releasedResources: [],
  mutatingCalls: 0,
});

/**
 * Removes everything executions registered on a node: every `proc-lambda-<node>-*` function (and
 * its VPC ENIs), every state machine and task definition of the node, and leftover token secrets.
 * Refuses with ConflictError while one of the node's machines has a RUNNING execution, unless
 * `force` (then it stops them first). Idempotent: a second call finds nothing and changes nothing.
 * The node's Pulumi destroy hook calls this.
 */
export async function cleanupNodeResources(options: CleanupNodeOptions): Promise<CleanupResult> {
  const clients = options.clients ?? createAwsClients({ region: options.region, endpoint: options.endpoint });
  const before = clients.mutations.calls.length;
  const result = emptyResult(options.dryRun);
  const machines = await nodeStateMachines(clients, options.computeNodeId);
  await settleRunning(clients, machines, { force: !!options.force, what: `node "${options.computeNodeId}"` }, result);

  for (const fn of await nodeFunctions(clients, options.computeNodeId)) await deleteFunction(clients, fn, result);
  const prefix = lambdaFunctionPrefix(options.computeNodeId);
  await releaseNetworkInterfaces(clients, prefix, new RegExp(`^${escape(prefix)}[0-9a-f]{12}(-|$)`), result);
  for (const arn of machines) await deleteStateMachine(clients, arn, result);
  // Families with only INACTIVE revisions too: an earlier cleanup may have deregistered them and stopped before deleting.
  const families = await nodeFamilies(clients, options.computeNodeId, "ALL");
  for (const family of families) for (const arn of await familyRevisions(clients, family)) await deregister(clients, arn, result);
  const inactive: string[] = [];
  for (const family of families) inactive.push(...(await familyRevisions(clients, family, "INACTIVE")));
  if (!result.dryRun) await deleteTaskDefinitions(clients, inactive);
  await deleteNodeSecrets(clients, options.computeNodeId, result);
  result.mutatingCalls = clients.mutations.calls.length - before;
  return result;
}

export interface CleanupWorkflowOptions {
  computeNodeId: string;
  workflowName: string;
  region: string;
  endpoint?: string;
  force?: boolean;
  /** Only list what would be deleted and released: no mutating call is sent. @default false */
  dryRun?: boolean;
  clients?: AwsClients;
}

/**
 * Removes what deleting a workflow definition frees: its state machines, and the functions and
 * task definitions no other workflow uses (each use is a `compute-node:wf:<hash>` tag; shared
 * resources only lose this workflow's tag). Idempotent.
 */
export async function cleanupWorkflow(options: CleanupWorkflowOptions): Promise<CleanupResult> {
  const clients = options.clients ?? createAwsClients({ region: options.region, endpoint: options.endpoint });
  const before = clients.mutations.calls.length;
  const result = emptyResult(options.dryRun);
  const main = stateMachineName(options.computeNodeId, options.workflowName);
  const machines = (await nodeStateMachines(clients, options.computeNodeId)).filter((arn) => {
    const name = arn.split(":").pop()!;
    return name === main || name.startsWith(`${main}-`);
  });
  await settleRunning(clients, machines, { force: !!options.force, what: `workflow "${options.workflowName}"` }, result);
  const useTag = workflowUseTag(options.workflowName);
  const uses = await workflowUses(clients, options.computeNodeId, useTag, new Set());
  for (const use of uses.functions) await releaseFunction(clients, use, useTag, result);
  for (const arn of machines) await deleteStateMachine(clients, arn, result);
  for (const use of uses.revisions) await releaseTaskDefinition(clients, use, useTag, result);
  if (!result.dryRun) await deleteTaskDefinitions(clients, result.deregisteredTaskDefinitions);
  result.mutatingCalls = clients.mutations.calls.length - before;
  return result;
}

export interface ReleaseUnusedOptions {
  computeNodeId: string;
  workflowName: string;
  /** ARNs of the functions and task definition revisions the workflow's current machines use. */
  keep: string[];
  clients: AwsClients;
  /** Where the deletions and untags are reported; with `dryRun`, nothing is sent. @default none */
  changes?: ChangeRecorder;
}

/**
 * After a deploy, releases what the workflow's earlier versions used and the new one no longer does
 * (a processor whose image changed gets a new function or family): this workflow's use tag goes, and
 * a resource no other workflow uses is deleted. Skipped while an execution of the workflow runs, since
 * it may still invoke the old function or task definition; the next deploy or cleanup catches up.
 */
export async function releaseUnusedResources(options: ReleaseUnusedOptions): Promise<CleanupResult & { deferred: boolean }> {
  const { clients, computeNodeId, workflowName } = options;
  const before = clients.mutations.calls.length;
  const result = { ...emptyResult(options.changes?.dryRun), deferred: false };
  const useTag = workflowUseTag(workflowName);
  const { functions, revisions } = await workflowUses(clients, computeNodeId, useTag, new Set(options.keep));
  if (functions.length === 0 && revisions.length === 0) return result;
  const main = stateMachineName(computeNodeId, workflowName);
  for (const arn of (await nodeStateMachines(clients, computeNodeId)).filter((a) => a.split(":").pop() === main || a.split(":").pop()!.startsWith(`${main}-`))) {
    const running = await clients.limits.run("sfn:ListExecutions", () => clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: "RUNNING", maxResults: 1 })));
    if ((running.executions ?? []).length) return { ...result, deferred: true };
  }
  for (const use of functions) await releaseFunction(clients, use, useTag, result);
  for (const use of revisions) await releaseTaskDefinition(clients, use, useTag, result);
  if (!result.dryRun) await deleteTaskDefinitions(clients, result.deregisteredTaskDefinitions);
  result.mutatingCalls = clients.mutations.calls.length - before;
  const why = `no longer used by workflow "${workflowName}"`;
  options.changes?.changes.push(
    ...result.deletedFunctions.map((name) => ({ action: "delete" as const, kind: "function" as const, name, why: `${why} nor any other` })),
    ...result.deregisteredTaskDefinitions.map((name) => ({ action: "delete" as const, kind: "task definition" as const, name, why: `${why} nor any other` })),
    ...result.releasedResources.map((name) => ({ action: "untag" as const, kind: name.includes(":lambda:") ? ("function" as const) : ("task definition" as const), name, why: `${why}; another workflow still uses it` })),
  );
  return result;
}

interface FunctionUse {
  fn: { name: string; arn: string };
  /** Another workflow's use tag is on it too. */
  usedByOthers: boolean;
}

interface RevisionUse {
  arn: string;
  usedByOthers: boolean;
}

/**
 * The one tag scan of cleanup: the node's functions and ACTIVE task definition revisions that carry
 * `useTag` (one workflow's `compute-node:wf:<hash>`), except those in `keep`, each with whether
 * another workflow uses it as well.
 */
async function workflowUses(clients: AwsClients, computeNodeId: string, useTag: string, keep: ReadonlySet<string>): Promise<{ functions: FunctionUse[]; revisions: RevisionUse[] }> {
  const usedByOthers = (keys: string[]) => keys.some((k) => k.startsWith(TAG_WORKFLOW_USE_PREFIX) && k !== useTag);
  const functions: FunctionUse[] = [];
  for (const fn of await nodeFunctions(clients, computeNodeId)) {
    if (keep.has(fn.arn)) continue;
    const tags = (await clients.limits.run("lambda:ListTags", () => clients.lambda.send(new ListTagsCommand({ Resource: fn.arn })))).Tags ?? {};
    if (tags[useTag] !== undefined) functions.push({ fn, usedByOthers: usedByOthers(Object.keys(tags)) });
  }
  const revisions: RevisionUse[] = [];
  for (const family of await nodeFamilies(clients, computeNodeId)) {
    for (const arn of await familyRevisions(clients, family)) {
      if (keep.has(arn)) continue;
      const described = await clients.limits.run("ecs:DescribeTaskDefinition", () => clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ["TAGS"] })));
      const keys = (described.tags ?? []).map((t) => t.key ?? "");
      if (keys.includes(useTag)) revisions.push({ arn, usedByOthers: usedByOthers(keys) });
    }
  }
  return { functions, revisions };
}

/** A function other workflows still use only loses this workflow's tag; otherwise it is deleted with its ENIs. */
async function releaseFunction(clients: AwsClients, { fn, usedByOthers }: FunctionUse, useTag: string, result: CleanupResult): Promise<void> {
  if (usedByOthers) {
    if (!result.dryRun) await clients.limits.run("lambda:UntagResource", () => clients.lambda.send(new LambdaUntag({ Resource: fn.arn, TagKeys: [useTag] })));
    result.releasedResources.push(fn.arn);
    return;
  }
  await deleteFunction(clients, fn, result);
  await releaseNetworkInterfaces(clients, fn.name, new RegExp(`^${escape(fn.name)}(-|$)`), result);
}

/** A revision other workflows still use only loses this workflow's tag; otherwise it is deregistered. */
async function releaseTaskDefinition(clients: AwsClients, { arn, usedByOthers }: RevisionUse, useTag: string, result: CleanupResult): Promise<void> {
  if (!usedByOthers) return deregister(clients, arn, result);
  if (!result.dryRun) await clients.limits.run("ecs:UntagResource", () => clients.ecs.send(new EcsUntag({ resourceArn: arn, tagKeys: [useTag] })));
  result.releasedResources.push(arn);
}

/** Refuses (ConflictError) while one of `machines` has a RUNNING execution, or stops them all with `force`. */
async function settleRunning(clients: AwsClients, machines: string[], { force, what }: { force: boolean; what: string }, result: CleanupResult): Promise<void> {
  for (const arn of machines) {
    let nextToken: string | undefined;
    do {
      const page = await clients.limits.run("sfn:ListExecutions", () => clients.sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: "RUNNING", nextToken })));
      for (const execution of page.executions ?? []) {
        if (!force) throw new ConflictError(`cannot clean up ${what}: execution ${execution.executionArn} is RUNNING; wait for it or pass force to stop it`, execution.executionArn);
        if (!result.dryRun)
          await clients.limits.run("sfn:StopExecution", () => clients.sfn.send(new StopExecutionCommand({ executionArn: execution.executionArn, error: "CleanupForced", cause: "stopped by compute-node cleanup" })));
        result.stoppedExecutions.push(execution.executionArn!);
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }
}

/** The node's machines: name prefix to narrow, the node tag to be exact (prefix `cn-a-` also matches node `a-b`). */
async function nodeStateMachines(clients: AwsClients, computeNodeId: string): Promise<string[]> {
  const prefix = stateMachinePrefix(computeNodeId);
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.limits.run("sfn:ListStateMachines", () => clients.sfn.send(new ListStateMachinesCommand({ nextToken })));
    for (const m of page.stateMachines ?? []) {
      if (!m.name?.startsWith(prefix)) continue;
      const tags = await clients.limits
        .run("sfn:ListTagsForResource", () => clients.sfn.send(new ListTagsForResourceCommand({ resourceArn: m.stateMachineArn })))
        .catch((err) => {
          if (isNotFound(err)) return { tags: [] };
          throw toRuntimeError(err, `ListTagsForResource ${m.stateMachineArn}`);
        });
      if ((tags.tags ?? []).some((t) => t.key === TAG_NODE && t.value === computeNodeId)) out.push(m.stateMachineArn!);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

async function nodeFunctions(clients: AwsClients, computeNodeId: string): Promise<{ name: string; arn: string }[]> {
  // Exact shape `proc-lambda-<node part>-<12 hex>`: another node whose id extends this one never matches.
  const pattern = new RegExp(`^${escape(lambdaFunctionPrefix(computeNodeId))}[0-9a-f]{12}$`);
  const out: { name: string; arn: string }[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.limits.run("lambda:ListFunctions", () => clients.lambda.send(new ListFunctionsCommand({ Marker: marker })));
    for (const f of page.Functions ?? []) if (f.FunctionName && pattern.test(f.FunctionName)) out.push({ name: f.FunctionName, arn: f.FunctionArn! });
    marker = page.NextMarker;
  } while (marker);
  return out;
}

async function deleteFunction(clients: AwsClients, fn: { name: string; arn: string }, result: CleanupResult): Promise<void> {
  try {
    if (!result.dryRun) await clients.limits.run("lambda:DeleteFunction", () => clients.lambda.send(new DeleteFunctionCommand({ FunctionName: fn.name })));
    result.deletedFunctions.push(fn.name);
  } catch (err) {
    if (!isNotFound(err)) throw toRuntimeError(err, `DeleteFunction ${fn.name}`);
  }
}

/**
 * Deletes the Lambda VPC ENIs (description `AWS Lambda VPC ENI-<function>…`) whose function name
 * matches; attached ones are reported pending (Lambda releases them minutes after the function goes).
 * Looked up by name, not by function, so a repeated cleanup still finds ENIs of functions it already deleted.
 */
async function releaseNetworkInterfaces(clients: AwsClients, descriptionPrefix: string, functionName: RegExp, result: CleanupResult): Promise<void> {
  let nextToken: string | undefined;
  do {
    const page = await clients.limits
      .run("ec2:DescribeNetworkInterfaces", () => clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "description", Values: [`AWS Lambda VPC ENI-${descriptionPrefix}*`] }], NextToken: nextToken })))
      .catch((err) => {
        throw toRuntimeError(err, `DescribeNetworkInterfaces for ${descriptionPrefix}`);
      });
    for (const eni of page.NetworkInterfaces ?? []) {
      const name = (eni.Description ?? "").slice("AWS Lambda VPC ENI-".length);
      if (!functionName.test(name)) continue;
      if (eni.Status !== "available") {
        result.pendingNetworkInterfaces.push(eni.NetworkInterfaceId!);
        continue;
      }
      try {
        if (!result.dryRun) await clients.limits.run("ec2:DeleteNetworkInterface", () => clients.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })));
        result.deletedNetworkInterfaces.push(eni.NetworkInterfaceId!);
      } catch (err) {
        if (isNetworkInterfaceInUse(err)) result.pendingNetworkInterfaces.push(eni.NetworkInterfaceId!);
        else if (!isNotFound(err)) throw toRuntimeError(err, `DeleteNetworkInterface ${eni.NetworkInterfaceId}`);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
}

async function deleteStateMachine(clients: AwsClients, arn: string, result: CleanupResult): Promise<void> {
  try {
    if (!result.dryRun) await clients.limits.run("sfn:DeleteStateMachine", () => clients.sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn })));
    result.deletedStateMachines.push(arn);
  } catch (err) {
    if (!isNotFound(err)) throw toRuntimeError(err, `DeleteStateMachine ${arn}`);
  }
}

async function nodeFamilies(clients: AwsClients, computeNodeId: string, status: "ACTIVE" | "ALL" = "ACTIVE"): Promise<string[]> {
  const prefix = taskDefinitionPrefix(computeNodeId);
  const pattern = new RegExp(`^${escape(prefix)}[0-9a-f]{16}$`);
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.limits.run("ecs:ListTaskDefinitionFamilies", () => clients.ecs.send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: prefix, status, nextToken })));
    out.push(...(page.families ?? []).filter((f) => pattern.test(f)));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

async function familyRevisions(clients: AwsClients, family: string, status: "ACTIVE" | "INACTIVE" = "ACTIVE"): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.limits.run("ecs:ListTaskDefinitions", () => clients.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken })));
    // familyPrefix is a prefix: keep only this family's revisions.
    out.push(...(page.taskDefinitionArns ?? []).filter((arn) => arn.split("/").pop()!.replace(/:\d+$/, "") === family));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

async function deregister(clients: AwsClients, arn: string, result: CleanupResult): Promise<void> {
  try {
    if (!result.dryRun) await clients.limits.run("ecs:DeregisterTaskDefinition", () => clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn })));
    result.deregisteredTaskDefinitions.push(arn);
  } catch (err) {
    if (!isEcsClientException(err) && !isNotFound(err)) throw toRuntimeError(err, `DeregisterTaskDefinition ${arn}`);
  }
}

// DeleteTaskDefinitions takes INACTIVE revisions, at most 10 per call (they become DELETE_IN_PROGRESS and leave
// the INACTIVE list, so a repeated cleanup sends nothing). Endpoints without the call leave them INACTIVE.
async function deleteTaskDefinitions(clients: AwsClients, arns: string[]): Promise<void> {
  for (let i = 0; i < arns.length; i += 10) {
    try {
      await clients.limits.run("ecs:DeleteTaskDefinitions", () => clients.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: arns.slice(i, i + 10) })));
    } catch (err) {
      if (isUnsupportedOperation(err)) return;
      throw toRuntimeError(err, "DeleteTaskDefinitions");
    }
  }
}

async function deleteNodeSecrets(clients: AwsClients, computeNodeId: string, result: CleanupResult): Promise<void> {
  const prefix = tokenSecretPrefix(computeNodeId);
  let nextToken: string | undefined;
  do {
    const page = await clients.limits.run("secretsmanager:ListSecrets", () => clients.secrets.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [prefix] }], NextToken: nextToken })));
    for (const s of page.SecretList ?? []) {
      if (!s.Name?.startsWith(prefix) || !(s.Tags ?? []).some((t) => t.Key === TAG_NODE && t.Value === computeNodeId)) continue;
      if (result.dryRun) {
        result.deletedSecrets.push(s.Name);
        continue;
      }
      const deleted = await deleteTokenSecret(clients.secrets, s.ARN!, { limit: (call) => clients.limits.run("secretsmanager:DeleteSecret", call) }).catch((err) => {
        throw toRuntimeError(err, `DeleteSecret ${s.Name}`);
      });
      if (deleted === "deleted") result.deletedSecrets.push(s.Name);
    }
    nextToken = page.NextToken;
  } while (nextToken);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
