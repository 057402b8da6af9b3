import { createHash } from "node:crypto";
import { DescribeTaskDefinitionCommand, RegisterTaskDefinitionCommand, RegisterTaskDefinitionCommandInput, TagResourceCommand, Tag, TaskDefinition } from "@aws-sdk/client-ecs";
import { NodeOutputs } from "../../model/node-outputs";
import { ResolvedPlan, ResolvedProcessor } from "../../plan/resolve";
import { taskDefinitionFamily } from "../../model/names";
import { AwsClients } from "./clients";
import { isEcsClientException, toRuntimeError } from "./errors";
import { resourceTags, staticEnvironment, canonicalJson, workflowUseTag, nodeAccount, nodePartition } from "./node";
import { applyChange, ChangeRecorder, changeRecorder } from "./changes";
import { PROCESSOR_CONTAINER } from "../../integrations/processor/contract";
import { TAG } from "../../model/tags";

/** Tag holding the hash of everything we asked ECS for, so a revision is reused only when it matches exactly. */
export const TAG_FINGERPRINT = TAG.fingerprint;
export const EFS_MOUNT_PATH = "/mnt/efs";

export interface RegisterOptions {
  node: NodeOutputs;
  plan: ResolvedPlan;
  clients: AwsClients;
  /** Where each change is reported; with `dryRun` set, nothing is sent and planned ARNs stand in. @default none: changes are made, not reported */
  changes?: ChangeRecorder;
}

/** Processor id → ARN of the registered (or reused) resource. */
export type RegistrationResult = Record<string, string>;

/** The task definition a processor needs on a node: Fargate (EC2 for GPUs), EFS through the node's access point, logs to the node's group. */
export function taskDefinitionInput(node: NodeOutputs, p: ResolvedProcessor): RegisterTaskDefinitionCommandInput {
  const accessPointId = node.efsAccessPointArn.split("/").pop()!;
  const environment = Object.entries(staticEnvironment(node))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  return {
    family: taskDefinitionFamily(node.computeNodeId, p),
    // Fargate has no GPUs: a GPU processor runs on the cluster's EC2 capacity (the compiler leaves out LaunchType for it).
    requiresCompatibilities: p.gpu > 0 ? ["EC2"] : ["FARGATE"],
    networkMode: "awsvpc",
    cpu: String(Math.round(p.cpu * 1024)),
    memory: String(p.memory),
    executionRoleArn: node.taskExecutionRoleArn,
    taskRoleArn: node.taskRoleArn,
    // Fargate gives 20 GiB without asking; the setting only accepts 21–200 and exists only on Fargate.
    ...(p.ephemeralStorage > 20 && p.gpu === 0 ? { ephemeralStorage: { sizeInGiB: p.ephemeralStorage } } : {}),
    volumes: [{ name: "efs", efsVolumeConfiguration: { fileSystemId: node.efsFileSystemId, transitEncryption: "ENABLED", authorizationConfig: { accessPointId, iam: "ENABLED" } } }],
    containerDefinitions: [
      {
        name: PROCESSOR_CONTAINER,
        image: p.image,
        essential: true,
        // Equal to the task memory: a soft limit AWS accepts, and one moto requires.
        memoryReservation: p.memory,
        ...(p.commandArguments.length ? { command: p.commandArguments } : {}),
        environment,
        mountPoints: [{ sourceVolume: "efs", containerPath: EFS_MOUNT_PATH, readOnly: false }],
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": node.logGroupName, "awslogs-region": node.region, "awslogs-stream-prefix": "processor" } },
        ...(p.gpu > 0 ? { resourceRequirements: [{ type: "GPU", value: String(p.gpu) }] } : {}),
      },
    ],
  };
}

export function fingerprintOf(input: unknown): string {
  return createHash("sha256").update(canonicalJson(input)).digest("hex").slice(0, 32);
}

/**
 * Registers one task definition per distinct ECS configuration, reusing the latest ACTIVE revision
 * of its family when its fingerprint matches (zero mutating calls on a repeat). A changed
 * configuration registers a new revision; a revision left by an interrupted attempt is adopted.
 */
export async function registerTaskDefinitions(options: RegisterOptions): Promise<RegistrationResult> {
  const { node, plan, clients, changes } = options;
  const byFamily = new Map<string, { input: RegisterTaskDefinitionCommandInput; ids: string[] }>();
  for (const p of plan.processors.filter((p) => p.computeType === "ecs")) {
    const input = taskDefinitionInput(node, p);
    const entry = byFamily.get(input.family!) ?? { input, ids: [] };
    entry.ids.push(p.id);
    byFamily.set(input.family!, entry);
  }
  const result: RegistrationResult = {};
  const families = [...byFamily.values()];
  // One recorder per family, joined in order: families are checked concurrently, and a plan must list the same order as the deploy.
  const recorders = families.map(() => (changes ? changeRecorder(changes.dryRun) : undefined));
  await Promise.all(
    families.map(async ({ input, ids }, i) => {
      const arn = await ensureTaskDefinition(clients, node, input, resourceTags(node, plan.workflow.name), plan.workflow.name, recorders[i]);
      for (const id of ids) result[id] = arn;
    }),
  ).finally(() => changes?.changes.push(...recorders.flatMap((r) => r?.changes ?? [])));
  return result;
}

async function ensureTaskDefinition(
  clients: AwsClients,
  node: NodeOutputs,
  input: RegisterTaskDefinitionCommandInput,
  tags: Record<string, string>,
  workflowName: string,
  changes: ChangeRecorder | undefined,
): Promise<string> {
  const family = input.family!;
  const fingerprint = fingerprintOf(input);
  const existing = await describeLatest(clients, family);
  if (existing && existing.tags[TAG_FINGERPRINT] === fingerprint) {
    const useTag = workflowUseTag(workflowName);
    // This workflow's use, and node tags a revision registered before them lacks (cost allocation); another workflow's name tag stays.
    const missing = Object.fromEntries(Object.entries(tags).filter(([k]) => existing.tags[k] === undefined && (k === useTag || k !== TAG.workflow)));
    if (Object.keys(missing).length) {
      const why = missing[useTag] !== undefined ? `now also used by workflow "${workflowName}"` : `add tags ${Object.keys(missing).join(", ")}`;
      await applyChange(
        changes,
        { action: "tag", kind: "task definition", name: existing.arn, why },
        () =>
          clients.limits
            .run("ecs:TagResource", () => clients.ecs.send(new TagResourceCommand({ resourceArn: existing.arn, tags: toTags(missing) })))
            .catch((err) => {
              throw toRuntimeError(err, `TagResource ${existing.arn}`);
            }),
        () => undefined,
      );
    }
    return existing.arn;
  }
  const why = existing ? `new revision (${revisionChanges(existing.definition, input)})` : "new family (no active revision for this image and size)";
  return applyChange(
    changes,
    { action: existing ? "update" : "create", kind: "task definition", name: family, why },
    async () => {
      const out = await clients.limits
        .run("ecs:RegisterTaskDefinition", () => clients.ecs.send(new RegisterTaskDefinitionCommand({ ...input, tags: toTags({ ...tags, [TAG_FINGERPRINT]: fingerprint }) })))
        .catch((err) => {
          throw toRuntimeError(err, `RegisterTaskDefinition ${family}`);
        });
      return out.taskDefinition!.taskDefinitionArn!;
    },
    // The revision ECS would number it (the latest active one's successor): what the compiled machine would name.
    () => `arn:${nodePartition(node)}:ecs:${node.region}:${nodeAccount(node)}:task-definition/${family}:${(existing?.definition.revision ?? 0) + 1}`,
  );
}

/** What differs between the latest revision and what the processors need, for a dry run's "why". */
function revisionChanges(current: TaskDefinition, wanted: RegisterTaskDefinitionCommandInput): string {
  const have = current.containerDefinitions?.[0];
  const want = wanted.containerDefinitions?.[0];
  const env = (xs: { name?: string; value?: string }[] | undefined) => canonicalJson([...(xs ?? [])].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "")));
  const changed = [
    have?.image !== want?.image ? "image changed" : "",
    current.cpu !== wanted.cpu || current.memory !== wanted.memory ? "size changed" : "",
    current.taskRoleArn !== wanted.taskRoleArn || current.executionRoleArn !== wanted.executionRoleArn ? "roles changed" : "",
    env(have?.environment) !== env(want?.environment) ? "environment changed" : "",
    canonicalJson(have?.command ?? []) !== canonicalJson(want?.command ?? []) ? "command changed" : "",
    canonicalJson(have?.logConfiguration ?? null) !== canonicalJson(want?.logConfiguration ?? null) ? "logging changed" : "",
  ].filter(Boolean);
  return changed.length ? changed.join(", ") : "configuration changed";
}

async function describeLatest(clients: AwsClients, family: string): Promise<{ arn: string; tags: Record<string, string>; definition: TaskDefinition } | undefined> {
  try {
    const out = await clients.limits.run("ecs:DescribeTaskDefinition", () => clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ["TAGS"] })));
    const td = out.taskDefinition;
    if (!td?.taskDefinitionArn || td.status !== "ACTIVE") return undefined;
    return { arn: td.taskDefinitionArn, tags: Object.fromEntries((out.tags ?? []).map((t) => [t.key ?? "", t.value ?? ""])), definition: td };
  } catch (err) {
    // ECS answers an unknown family with a generic ClientException.
    if (isEcsClientException(err)) return undefined;
    throw toRuntimeError(err, `DescribeTaskDefinition ${family}`);
  }
}

export function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
