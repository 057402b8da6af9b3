import {
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineCommandOutput,
  LoggingConfiguration,
  UpdateStateMachineCommand,
} from "@aws-sdk/client-sfn";
import { NodeOutputs } from "../../model/node-outputs";
import { stateMachineName } from "../../model/names";
import { AslStateMachine } from "../../compile/asl/types";
import { AwsClients } from "./clients";
import { awsErrorName, toRuntimeError } from "./errors";
import { canonicalJson, nodeAccount, nodePartition, resourceTags } from "./node";

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
}

/**
 * Creates or updates a workflow's machines, children first (the main machine starts them).
 * A machine whose definition, role and logging already match gets no call at all; one an
 * interrupted attempt left behind is adopted and updated.
 */
export async function deployStateMachines(options: DeployStateMachinesOptions): Promise<{ stateMachineArn: string; childStateMachineArns: Record<string, string> }> {
  const { node, workflowName, clients } = options;
  const arns = workflowMachineArns(node, workflowName, Object.keys(options.children));
  const tags = resourceTags(node.computeNodeId, workflowName);
  for (const [child, definition] of Object.entries(options.children).sort(([a], [b]) => a.localeCompare(b)))
    await ensureStateMachine(clients, node, arns.children[child], definition, tags);
  await ensureStateMachine(clients, node, arns.main, options.definition, tags);
  return { stateMachineArn: arns.main, childStateMachineArns: arns.children };
}

async function ensureStateMachine(clients: AwsClients, node: NodeOutputs, arn: string, definition: AslStateMachine, tags: Record<string, string>): Promise<void> {
  const name = arn.split(":").pop()!;
  const logging = loggingConfiguration(node);
  const existing = await describe(clients, arn);
  if (!existing) {
    try {
      await clients.limits.run("sfn:CreateStateMachine", () =>
        clients.sfn.send(
          new CreateStateMachineCommand({
            name,
            type: "STANDARD",
            definition: JSON.stringify(definition),
            roleArn: node.stateMachineRoleArn,
            loggingConfiguration: logging,
            tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
          }),
        ),
      );
      return;
    } catch (err) {
      // Another deploy created it between our describe and create: adopt it below.
      if (awsErrorName(err) !== "StateMachineAlreadyExists") throw toRuntimeError(err, `CreateStateMachine ${name}`);
    }
  }
  const current = existing ?? (await describe(clients, arn));
  if (current && matches(current, definition, node.stateMachineRoleArn, logging)) return;
  await clients.limits
    .run("sfn:UpdateStateMachine", () => clients.sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn, definition: JSON.stringify(definition), roleArn: node.stateMachineRoleArn, loggingConfiguration: logging })))
    .catch((err) => {
      throw toRuntimeError(err, `UpdateStateMachine ${name}`);
    });
}

async function describe(clients: AwsClients, arn: string): Promise<DescribeStateMachineCommandOutput | undefined> {
  try {
    return await clients.limits.run("sfn:DescribeStateMachine", () => clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })));
  } catch (err) {
    if (awsErrorName(err) === "StateMachineDoesNotExist") return undefined;
    throw toRuntimeError(err, `DescribeStateMachine ${arn}`);
  }
}

function matches(current: DescribeStateMachineCommandOutput, definition: AslStateMachine, roleArn: string, logging: LoggingConfiguration): boolean {
  let currentDefinition: unknown;
  try {
    currentDefinition = JSON.parse(current.definition ?? "");
  } catch {
    return false;
  }
  if (canonicalJson(currentDefinition) !== canonicalJson(definition) || current.roleArn !== roleArn) return false;
  // Some endpoints (moto) do not report logging; compare it whenever it is reported.
  const have = current.loggingConfiguration;
  if (!have) return true;
  return (
    (have.level ?? "OFF") === logging.level &&
    !!have.includeExecutionData === !!logging.includeExecutionData &&
    canonicalJson((have.destinations ?? []).map((d) => d.cloudWatchLogsLogGroup?.logGroupArn)) === canonicalJson(logging.destinations!.map((d) => d.cloudWatchLogsLogGroup?.logGroupArn))
  );
}
