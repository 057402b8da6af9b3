import {
  CreateFunctionCommand,
  CreateFunctionCommandInput,
  DeleteFunctionCommand,
  FunctionConfiguration,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  TagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { NodeOutputs } from "../../model/node-outputs";
import { LAMBDA_NAME_PATTERN, lambdaFunctionName } from "../../model/names";
import { ResolvedProcessor } from "../../plan/resolve";
import { ValidationError } from "../../errors";
import { AwsClients } from "./clients";
import { awsStyleError, isNotFound, toRuntimeError } from "./errors";
import { EFS_MOUNT_PATH, RegisterOptions, RegistrationResult, TAG_FINGERPRINT, fingerprintOf } from "./register-ecs";
import { resourceTags, staticEnvironment, workflowUseTag, nodeAccount, nodePartition } from "./node";
import { applyChange, ChangeRecorder, changeRecorder } from "./changes";
import { TAG } from "../../model/tags";

/** What a processor function must look like; compared field by field with what Lambda reports. */
export interface LambdaFunctionSpec {
  name: string;
  image: string;
  role: string;
  memory: number;
  timeout: number;
  subnetIds: string[];
  securityGroupIds: string[];
  accessPointArn: string;
  environment: Record<string, string>;
  /** The node's log group: processor logs land where finalize archives them, not in `/aws/lambda/<name>`. */
  logGroup: string;
}

/**
 * One spec per distinct image (`proc-lambda-<node>-<imageHash>`). Processors sharing an image share
 * the function, so it gets the largest memory and timeout any of them asks for.
 */
export function lambdaFunctionSpecs(node: NodeOutputs, processors: ResolvedProcessor[]): Map<string, { spec: LambdaFunctionSpec; ids: string[] }> {
  const out = new Map<string, { spec: LambdaFunctionSpec; ids: string[] }>();
  for (const p of processors.filter((p) => p.computeType === "lambda")) {
    const name = lambdaFunctionName(node.computeNodeId, p.image);
    if (!LAMBDA_NAME_PATTERN.test(name))
      throw new ValidationError([{ code: "invalid_lambda_name", path: ["processors"], processorId: p.id, message: `Lambda name "${name}" breaks the 64-character [A-Za-z0-9_-] rule` }]);
    const entry = out.get(name);
    if (entry) {
      entry.spec.memory = Math.max(entry.spec.memory, p.memory);
      entry.spec.timeout = Math.max(entry.spec.timeout, p.timeout);
      entry.ids.push(p.id);
      continue;
    }
    out.set(name, {
      ids: [p.id],
      spec: {
        name,
        image: p.image,
        role: node.lambdaExecutionRoleArn,
        memory: p.memory,
        timeout: p.timeout,
        subnetIds: [...node.subnetIds].sort(),
        securityGroupIds: [...node.securityGroupIds].sort(),
        accessPointArn: node.efsAccessPointArn,
        environment: staticEnvironment(node),
        logGroup: node.logGroupName,
      },
    });
  }
  return out;
}

/**
 * Creates or updates the processor functions of a plan. A function whose image and configuration
 * already match is reused without any mutating call; a function that an interrupted attempt left
 * behind is adopted (and updated if it differs), and one that Lambda marked Failed is replaced.
 */
export async function registerLambdaFunctions(options: RegisterOptions): Promise<RegistrationResult> {
  const { node, plan, clients, changes } = options;
  const result: RegistrationResult = {};
  const tags = resourceTags(node, plan.workflow.name);
  const plannedArn = (name: string) => `arn:${nodePartition(node)}:lambda:${node.region}:${nodeAccount(node)}:function:${name}`;
  const specs = [...lambdaFunctionSpecs(node, plan.processors).values()];
  // One recorder per function, joined in spec order: the functions are checked concurrently, and a plan must list the same order as the deploy.
  const recorders = specs.map(() => (changes ? changeRecorder(changes.dryRun) : undefined));
  await Promise.all(
    specs.map(async ({ spec, ids }, i) => {
      const arn = await ensureFunction(clients, spec, tags, { useTag: workflowUseTag(plan.workflow.name), workflowName: plan.workflow.name, changes: recorders[i], plannedArn: plannedArn(spec.name) }).catch((err) => {
        // Lambda rejected what we asked for (e.g. an image outside ECR): say which processors it was for.
        if (!(err instanceof ValidationError)) throw err;
        throw new ValidationError(
          ids.map((id) => ({ code: "aws_rejected", path: ["workflow", "processors", plan.workflow.processors.findIndex((p) => p.id === id), "sourceUrl"], processorId: id, message: `processor "${id}" (image ${spec.image}) as Lambda function ${spec.name}: ${err.message}` })),
          { cause: err.cause ?? err },
        );
      });
      for (const id of ids) result[id] = arn;
    }),
  ).finally(() => changes?.changes.push(...recorders.flatMap((r) => r?.changes ?? [])));
  return result;
}

interface EnsureContext {
  useTag: string;
  workflowName: string;
  changes?: ChangeRecorder;
  /** The ARN a function of this name gets: what a dry run compiles with. */
  plannedArn: string;
}

async function ensureFunction(clients: AwsClients, spec: LambdaFunctionSpec, tags: Record<string, string>, ctx: EnsureContext): Promise<string> {
  const { changes, useTag } = ctx;
  const dryRun = !!changes?.dryRun;
  const call = <T>(op: string, fn: () => Promise<T>) =>
    clients.limits.run(`lambda:${op}`, fn).catch((err) => {
      throw toRuntimeError(err, `${op} ${spec.name}`);
    });
  let current = await clients.limits.run("lambda:GetFunction", () => clients.lambda.send(new GetFunctionCommand({ FunctionName: spec.name }))).catch((err) => {
    if (isNotFound(err)) return undefined;
    throw toRuntimeError(err, `GetFunction ${spec.name}`);
  });
  let replaced = false;
  if (current?.Configuration?.State === "Failed") {
    await applyChange(changes, { action: "delete", kind: "function", name: spec.name, why: "Lambda marked it Failed: it is replaced" }, () => call("DeleteFunction", () => clients.lambda.send(new DeleteFunctionCommand({ FunctionName: spec.name }))), () => undefined);
    current = undefined;
    replaced = true;
  }
  if (!current?.Configuration) {
    return applyChange(
      changes,
      { action: "create", kind: "function", name: spec.name, why: replaced ? "replaces the Failed function" : `new image ${spec.image}` },
      async () => {
        const created = await call("CreateFunction", () => clients.lambda.send(new CreateFunctionCommand(createInput(spec, { ...tags, [TAG_FINGERPRINT]: fingerprintOf(spec) }))));
        await waitUntilReady(clients, spec.name, created);
        return created.FunctionArn!;
      },
      () => ctx.plannedArn,
    );
  }
  const config = current.Configuration;
  // A function an interrupted attempt created may still be Pending (or mid-update): an update or an
  // invocation now would be rejected, so wait (reads only) before using it. A dry run changes nothing, so need not wait.
  if (!dryRun) await waitUntilReady(clients, spec.name, config);
  const have = current.Tags ?? {};
  const fingerprint = fingerprintOf(spec);
  // The fingerprint tag covers what GetFunction may not report (moto drops FileSystemConfigs).
  const differs = configDifferences(config, spec);
  const configChanged = differs.length > 0 || have[TAG_FINGERPRINT] !== fingerprint;
  if (configChanged) {
    await applyChange(
      changes,
      { action: "update", kind: "function", name: spec.name, why: `configuration (${differs.length ? differs.join(", ") : "settings not reported by Lambda changed"})` },
      async () => {
        const updated = await call("UpdateFunctionConfiguration", () => clients.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: spec.name, ...functionConfiguration(spec) })));
        await waitUntilReady(clients, spec.name, updated);
      },
      () => undefined,
    );
  }
  const image = current.Code?.ImageUri;
  if (image !== undefined && image !== spec.image) {
    await applyChange(
      changes,
      { action: "update", kind: "function", name: spec.name, why: `code (image changed from ${image} to ${spec.image})` },
      async () => {
        const updated = await call("UpdateFunctionCode", () => clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: spec.name, ImageUri: spec.image })));
        await waitUntilReady(clients, spec.name, updated);
      },
      () => undefined,
    );
  }
  const missing: Record<string, string> = Object.fromEntries(Object.entries(tags).filter(([k]) => have[k] === undefined && (k === useTag || k !== TAG.workflow)));
  if (configChanged || image !== spec.image) missing[TAG_FINGERPRINT] = fingerprint;
  if (Object.keys(missing).length) {
    const why = missing[useTag] !== undefined ? `now also used by workflow "${ctx.workflowName}"` : `tags ${Object.keys(missing).join(", ")}`;
    await applyChange(changes, { action: "tag", kind: "function", name: spec.name, why }, () => call("TagResource", () => clients.lambda.send(new TagResourceCommand({ Resource: config.FunctionArn!, Tags: missing }))), () => undefined);
  }
  return config.FunctionArn!;
}

function createInput(spec: LambdaFunctionSpec, tags: Record<string, string>): CreateFunctionCommandInput {
  return {
    FunctionName: spec.name,
    PackageType: "Image",
    Code: { ImageUri: spec.image },
    ...functionConfiguration(spec),
    Tags: tags,
  };
}

/** The settings create and update both send, so an update can never drift from what a create would make. */
function functionConfiguration(spec: LambdaFunctionSpec) {
  return {
    Role: spec.role,
    MemorySize: spec.memory,
    Timeout: spec.timeout,
    VpcConfig: { SubnetIds: spec.subnetIds, SecurityGroupIds: spec.securityGroupIds },
    FileSystemConfigs: [{ Arn: spec.accessPointArn, LocalMountPath: EFS_MOUNT_PATH }],
    Environment: { Variables: spec.environment },
    LoggingConfig: { LogFormat: "Text" as const, LogGroup: spec.logGroup },
  };
}

/** The settings Lambda reports that differ from the spec (empty: nothing visible differs). */
function configDifferences(config: FunctionConfiguration, spec: LambdaFunctionSpec): string[] {
  const sorted = (xs: string[] | undefined) => JSON.stringify([...(xs ?? [])].sort());
  const env = config.Environment?.Variables ?? {};
  const fs = config.FileSystemConfigs ?? [];
  return [
    config.Role !== spec.role ? "role" : "",
    config.MemorySize !== spec.memory ? "memory" : "",
    config.Timeout !== spec.timeout ? "timeout" : "",
    sorted(config.VpcConfig?.SubnetIds) !== sorted(spec.subnetIds) || sorted(config.VpcConfig?.SecurityGroupIds) !== sorted(spec.securityGroupIds) ? "VPC" : "",
    config.FileSystemConfigs !== undefined && (fs.length !== 1 || fs[0].Arn !== spec.accessPointArn || fs[0].LocalMountPath !== EFS_MOUNT_PATH) ? "file system" : "",
    config.LoggingConfig?.LogGroup !== undefined && config.LoggingConfig.LogGroup !== spec.logGroup ? "log group" : "",
    Object.keys(env).length !== Object.keys(spec.environment).length || Object.entries(spec.environment).some(([k, v]) => env[k] !== v) ? "environment" : "",
  ].filter(Boolean);
}

// Lambda rejects invocations and further updates while a function is Pending or an update InProgress.
async function waitUntilReady(clients: AwsClients, name: string, config: FunctionConfiguration, timeoutMs = 300_000): Promise<void> {
  // A timer, not clock readings: the wait is real time, and nothing here needs to know what time it is.
  let expired = false;
  const timer = setTimeout(() => (expired = true), timeoutMs);
  timer.unref();
  let current = config;
  let delay = 500;
  try {
    while (current.State === "Pending" || current.LastUpdateStatus === "InProgress") {
      if (expired) throw toRuntimeError(awsStyleError("ResourceNotReadyException", `still ${current.State}/${current.LastUpdateStatus}`), `waiting for function ${name}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
      current = await clients.limits.run("lambda:GetFunctionConfiguration", () => clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name })));
    }
  } finally {
    clearTimeout(timer);
  }
  if (current.State === "Failed" || current.LastUpdateStatus === "Failed")
    throw toRuntimeError(awsStyleError(current.StateReasonCode ?? current.LastUpdateStatusReasonCode ?? "FunctionFailed", current.StateReason ?? current.LastUpdateStatusReason ?? "failed"), `function ${name}`);
}
