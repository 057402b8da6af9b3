import {
  CreateStateMachineCommand,
  DeleteStateMachineVersionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineCommandOutput,
  ListStateMachineVersionsCommand,
  LoggingConfiguration,
  PublishStateMachineVersionCommand,
  TagResourceCommand,
  UpdateStateMachineCommand,
} from "@aws-sdk/client-sfn";
import { NodeOutputs } from "../../model/node-outputs";
import { stateMachineName } from "../../model/names";
import { AslStateMachine } from "../../compile/asl/types";
import { readMarkers } from "../../compile/markers";
import { AwsClients } from "./clients";
import { isAlreadyExists, isNotFound, toRuntimeError } from "./errors";
import { canonicalJson, nodeAccount, nodePartition, resourceTags } from "./node";
import { applyChange, ChangeRecorder } from "./changes";

export function stateMachineArnOf(node: NodeOutputs, name: string): string {
  return `arn:${nodePartition(node)}:states:${node.region}:${nodeAccount(node)}:stateMachine:${name}`;
}

/** The ARNs a workflow's machines get on a node; known before anything is created, so the main machine can name its children. */
export function workflowMachineArns(node: NodeOutputs, workflowName: string, children: string[]): { main: string; children: Record<string, string> } {
  return {
    main: stateMachineArnOf(node, stateMachineName(node.computeNodeId, workflowName)),
    children: Object.fromEntries(children.map((c) => [c, stateMachineArnOf(node, stateMachineName(node.computeNodeId, workflowName, c))])),
  };
}

/** Errors only and never execution data: inputs and outputs of the token states must not reach the logs. */
export function loggingConfiguration(node: NodeOutputs): LoggingConfiguration {
  return {
    level: "ERROR",
    includeExecutionData: false,
    destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: `arn:${nodePartition(node)}:logs:${node.region}:${nodeAccount(node)}:log-group:${node.logGroupName}:*` } }],
  };
}

export interface DeployStateMachinesOptions {
  node: NodeOutputs;
  workflowName: string;
  definition: AslStateMachine;
  children: Record<string, AslStateMachine>;
  clients: AwsClients;
  /** Where each change is reported; with `dryRun` set, only reads are sent. @default none */
  changes?: ChangeRecorder;
}

export interface DeployedStateMachines {
  /** The main machine (unqualified): what records and tracking name. */
  stateMachineArn: string;
  childStateMachineArns: Record<string, string>;
  /** What StartExecution takes: the version just published, or the machine where the endpoint has no versions. */
  startArn: string;
}

/** Published versions a machine keeps at most (AWS allows 1,000); older ones go, their running executions carry on. */
const KEEP_VERSIONS = 100;
const PRUNE_ABOVE = 900;

/**
 * Creates or updates a workflow's machines, children before the machines that start them. A
 * machine whose definition, role and logging already match gets no update; one an interrupted
 * attempt left behind is adopted and updated. Each machine publishes a version, and a parent
 * starts its children's versions: an update takes a while to reach every StartExecution of the
 * unqualified ARN, and a run must not mix the definitions before and after it.
 */
export async function deployStateMachines(options: DeployStateMachinesOptions): Promise<DeployedStateMachines> {
  const { node, workflowName, clients, changes } = options;
  const arns = workflowMachineArns(node, workflowName, Object.keys(options.children));
  const tags = resourceTags(node, workflowName);
  const pinned: Record<string, string> = {};
  const deployed = new Set<string>();
  const deployChild = async (child: string, path: string[]): Promise<void> => {
    if (deployed.has(child)) return;
    if (path.includes(child)) throw new Error(`internal: child machines start each other in a cycle (${[...path, child].join(" → ")})`);
    const definition = options.children[child];
    if (!definition) throw new Error(`internal: a machine starts child "${child}", which was not compiled`);
    for (const grandchild of startedChildren(definition)) await deployChild(grandchild, [...path, child]);
    pinned[arns.children[child]] = await ensureStateMachine(clients, node, arns.children[child], pinChildren(definition, pinned), tags, changes);
    deployed.add(child);
  };
  for (const child of Object.keys(options.children).sort((a, b) => a.localeCompare(b, "en", { numeric: true }))) await deployChild(child, []);
  const startArn = await ensureStateMachine(clients, node, arns.main, pinChildren(options.definition, pinned), tags, changes);
  return { stateMachineArn: arns.main, childStateMachineArns: arns.children, startArn };
}

/** Names of the child machines a definition starts (their `child:<name>` markers). */
function startedChildren(definition: AslStateMachine): string[] {
  return [...readMarkers(definition).values()].filter((m) => m.kind === "child" && m.child).map((m) => m.child!);
}

/** The definition with every child start pointed at the version just deployed. */
function pinChildren(definition: AslStateMachine, pinned: Record<string, string>): AslStateMachine {
  const pin = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(pin);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "StateMachineArn" && typeof v === "string" && pinned[v] ? pinned[v] : pin(v)]));
  };
  return pin(definition) as AslStateMachine;
}

/** Returns the ARN to start: the published version of this definition, or the machine itself where versions are unavailable. */
async function ensureStateMachine(clients: AwsClients, node: NodeOutputs, arn: string, definition: AslStateMachine, tags: Record<string, string>, changes?: ChangeRecorder): Promise<string> {
  const name = arn.split(":").pop()!;
  const logging = loggingConfiguration(node);
  const versions = clients.stateMachineVersions !== false;
  const publish = versions ? { publish: true } : {};
  const startable = (versionArn: string | undefined) => (versions && versionArn ? versionArn : arn);
  // What a dry run stands in for a version not yet published: it differs from every real one, so parents pinning it show as changed.
  const plannedVersion = () => (versions ? `${arn}:planned` : arn);
  const existing = await describe(clients, arn);
  if (!existing) {
    try {
      return await applyChange(
        changes,
        { action: "create", kind: "state machine", name, why: "new workflow machine" },
        async () => {
          const created = await clients.limits.run("sfn:CreateStateMachine", () =>
            clients.sfn.send(
              new CreateStateMachineCommand({
                name,
                type: "STANDARD",
                definition: JSON.stringify(definition),
                roleArn: node.stateMachineRoleArn,
                loggingConfiguration: logging,
                tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
                ...publish,
              }),
            ),
          );
          return startable(created.stateMachineVersionArn);
        },
        plannedVersion,
      );
    } catch (err) {
      // Another deploy created it between our describe and create: adopt it below.
      if (!isAlreadyExists(err)) throw toRuntimeError(err, `CreateStateMachine ${name}`);
      changes?.changes.pop();
    }
  }
  const current = existing ?? (await describe(clients, arn));
  const differs = current ? differences(current, definition, node.stateMachineRoleArn, logging) : ["definition"];
  if (differs.length === 0) return versions ? currentVersion(clients, arn, current!.revisionId, changes) : arn;
  return applyChange(
    changes,
    { action: "update", kind: "state machine", name, why: `${differs.join(", ")} changed` },
    async () => {
      const updated = await clients.limits
        .run("sfn:UpdateStateMachine", () => clients.sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: JSON.stringify(definition), roleArn: node.stateMachineRoleArn, loggingConfiguration: logging, ...publish })))
        .catch((err) => {
          throw toRuntimeError(err, `UpdateStateMachine ${name}`);
        });
      // A machine created before a tag existed (cost allocation: the node's environment, the user's tags) gets it with its next change.
      await clients.limits
        .run("sfn:TagResource", () => clients.sfn.send(new TagResourceCommand({ resourceArn: arn, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) })))
        .catch((err) => {
          throw toRuntimeError(err, `TagResource ${name}`);
        });
      if (versions) await pruneVersions(clients, arn);
      return startable(updated.stateMachineVersionArn);
    },
    plannedVersion,
  );
}

/**
 * The version of an unchanged machine, found with reads only (a deploy of an unchanged workflow
 * makes no mutating call): the newest version, if it holds the machine's current revision. A
 * machine from before versions gets one published. Failures are not papered over with the
 * unqualified ARN: another deploy may have changed the machine in between.
 */
async function currentVersion(clients: AwsClients, arn: string, revisionId: string | undefined, changes?: ChangeRecorder): Promise<string> {
  const listed = await clients.limits
    .run("sfn:ListStateMachineVersions", () => clients.sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn, maxResults: 1 })))
    .catch((err) => {
      throw toRuntimeError(err, `ListStateMachineVersions ${arn}`);
    });
  // Listed newest first.
  const newest = listed.stateMachineVersions?.[0]?.stateMachineVersionArn;
  if (newest) {
    const version = await describe(clients, newest);
    if (version && version.revisionId === revisionId) return newest;
  }
  return applyChange(
    changes,
    { action: "publish", kind: "state machine version", name: arn.split(":").pop()!, why: "no version holds the machine's current revision" },
    async () => {
      const published = await clients.limits
        .run("sfn:PublishStateMachineVersion", () => clients.sfn.send(new PublishStateMachineVersionCommand({ stateMachineArn: arn, ...(revisionId ? { revisionId } : {}) })))
        .catch((err) => {
          throw toRuntimeError(err, `PublishStateMachineVersion ${arn}`);
        });
      if (!published.stateMachineVersionArn) throw toRuntimeError(new Error("no version ARN in the answer"), `PublishStateMachineVersion ${arn}`);
      return published.stateMachineVersionArn;
    },
    () => `${arn}:planned`,
  );
}

async function pruneVersions(clients: AwsClients, arn: string): Promise<void> {
  const versions: { arn: string; created: number }[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await clients.limits.run("sfn:ListStateMachineVersions", () => clients.sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn: arn, maxResults: 1000, nextToken })));
      for (const v of page.stateMachineVersions ?? []) if (v.stateMachineVersionArn) versions.push({ arn: v.stateMachineVersionArn, created: v.creationDate?.getTime() ?? 0 });
      nextToken = page.nextToken;
    } while (nextToken);
  } catch {
    // Listing is housekeeping: a deploy must not fail for it.
    return;
  }
  if (versions.length <= PRUNE_ABOVE) return;
  versions.sort((a, b) => b.created - a.created);
  for (const old of versions.slice(KEEP_VERSIONS))
    await clients.limits.run("sfn:DeleteStateMachineVersion", () => clients.sfn.send(new DeleteStateMachineVersionCommand({ stateMachineVersionArn: old.arn }))).catch(() => undefined);
}

async function describe(clients: AwsClients, arn: string): Promise<DescribeStateMachineCommandOutput | undefined> {
  try {
    return await clients.limits.run("sfn:DescribeStateMachine", () => clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw toRuntimeError(err, `DescribeStateMachine ${arn}`);
  }
}

/** What differs between a machine and what the deploy wants: `definition`, `role`, `logging` (empty: it matches). */
function differences(current: DescribeStateMachineCommandOutput, definition: AslStateMachine, roleArn: string, logging: LoggingConfiguration): string[] {
  let currentDefinition: unknown;
  try {
    currentDefinition = JSON.parse(current.definition ?? "");
  } catch {
    currentDefinition = null;
  }
  const out: string[] = [];
  if (canonicalJson(currentDefinition) !== canonicalJson(definition)) out.push("definition");
  if (current.roleArn !== roleArn) out.push("role");
  // Some endpoints (moto) do not report logging; compare it whenever it is reported.
  const have = current.loggingConfiguration;
  if (
    have &&
    !(
      (have.level ?? "OFF") === logging.level &&
      !!have.includeExecutionData === !!logging.includeExecutionData &&
      canonicalJson((have.destinations ?? []).map((d) => d.cloudWatchLogsLogGroup?.logGroupArn)) === canonicalJson(logging.destinations!.map((d) => d.cloudWatchLogsLogGroup?.logGroupArn))
    )
  )
    out.push("logging");
  return out;
}
