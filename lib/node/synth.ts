import * as pulumi from "@pulumi/pulumi";
import { getMonitor } from "@pulumi/pulumi/runtime/settings";
import { NodeConfig } from "./config";

/** One resource the program would create, as `cdk synth` would list it. */
export interface SynthResource {
  /** Pulumi type token, e.g. `aws:ec2/vpc:Vpc`. */
  type: string;
  /** Logical name. */
  name: string;
  inputs: Record<string, unknown>;
  /** The id the mock assigned, which other resources' inputs use to refer to this one. */
  id: string;
  /** Logical names of the resources it depends on (explicit dependsOn and inputs), which destroy deletes after it. */
  dependencies?: string[];
}

export interface SynthResult {
  resources: SynthResource[];
  outputs: Record<string, unknown>;
}

const ACCOUNT = "123456789012";

// Fake AWS answers, enough for the program to take every branch it would take in a real account.
function callResult(token: string, args: Record<string, unknown>, region: string): Record<string, unknown> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/synth`, userId: "SYNTH", id: ACCOUNT };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region };
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: ["a", "b", "c"].map((z) => `${region}${z}`), zoneIds: ["az1", "az2", "az3"], id: region };
    case "aws:ec2/getVpc:getVpc":
      return { id: "vpc-0default0000000000", cidrBlock: "172.31.0.0/16", default: true, mainRouteTableId: "rtb-0defaultmain00000" };
    case "aws:ec2/getSubnets:getSubnets":
      return { ids: ["subnet-0default00000000a", "subnet-0default00000000b", "subnet-0default00000000c"], id: "subnets" };
    case "aws:ec2/getRouteTables:getRouteTables":
      // As in a default VPC as AWS creates it: no subnet has an explicit association, all use the main table.
      return { ids: [], id: region };
    case "aws:ssm/getParameter:getParameter":
      return { value: "ami-0gpu00000000000000", name: args.name, type: "String", id: String(args.name) };
    default:
      return {};
  }
}

function fakeState(type: string, name: string, inputs: Record<string, unknown>, region: string): Record<string, unknown> {
  const [, module = "x", resource = "x"] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
  const arn = `arn:aws:${module}:${region}:${ACCOUNT}:${resource}/${inputs.name ?? name}`;
  const extra: Record<string, unknown> = { arn, id: `${name}-id` };
  if (type === "aws:s3/bucket:Bucket") extra.bucket = `${inputs.bucketPrefix ?? name}synth`;
  if (type === "aws:cloudwatch/logGroup:LogGroup") extra.arn = `arn:aws:logs:${region}:${ACCOUNT}:log-group:${inputs.name ?? name}`;
  // Lambda ARNs use "function:<name>", which the roles' function:<prefix>* patterns must match.
  if (type === "aws:lambda/function:Function") extra.arn = `arn:aws:lambda:${region}:${ACCOUNT}:function:${inputs.name ?? name}`;
  if (type === "aws:ecs/capacityProvider:CapacityProvider") extra.name = inputs.name ?? name;
  if (type === "aws:lambda/functionUrl:FunctionUrl") extra.functionUrl = `https://${name}.lambda-url.${region}.on.aws/`;
  return { ...inputs, ...extra, name: inputs.name ?? name };
}

let running: Promise<unknown> = Promise.resolve();

/**
 * Runs the node program offline under Pulumi mocks and returns every resource it registers,
 * with the inputs it would send. Needs no credentials and no CLI. Calls are serialized because
 * Pulumi's mock runtime is process-global.
 */
export function synthNode(config: NodeConfig): Promise<SynthResult> {
  const next = running.then(() => synthOnce(config));
  running = next.catch(() => undefined);
  return next;
}

async function synthOnce(config: NodeConfig): Promise<SynthResult> {
  const resources: SynthResource[] = [];
  let pending = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        pending++;
        resources.push({ type: args.type, name: args.name, inputs: scrub(args.inputs), id: `${args.name}-id` });
        pending--;
        return { id: `${args.name}-id`, state: fakeState(args.type, args.name, args.inputs, config.region) };
      },
      call(args) {
        return callResult(args.token, args.inputs, config.region);
      },
    },
    "compute-node",
    `synth-${config.computeNodeId}`,
    true,
  );
  const dependencies = recordDependencies();
  // Imported after the mocks so module-level Pulumi state binds to them.
  const { computeNodeProgram } = await import("./program");
  const outputs = await resolveAll(await computeNodeProgram(config)());
  // Registrations continue on later ticks (apply callbacks create resources); wait until the count is stable.
  let seen = -1;
  let stableTicks = 0;
  while (stableTicks < 20 || pending > 0) {
    await new Promise((r) => setImmediate(r));
    if (resources.length === seen) stableTicks++;
    else {
      seen = resources.length;
      stableTicks = 0;
    }
  }
  for (const r of resources) r.dependencies = dependencies.get(`${r.type}::${r.name}`) ?? [];
  resources.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  return { resources, outputs };
}

async function resolveAll(values: Record<string, pulumi.Input<unknown>>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(Object.entries(values).map(async ([k, v]) => [k, await new Promise((resolve) => (pulumi.output(v) as pulumi.Output<unknown>).apply((x) => resolve(x)))] as const));
  return Object.fromEntries(entries);
}

// Dynamic providers carry their serialized code in `__provider`: an implementation detail, not a reviewable input.
function scrub(inputs: Record<string, unknown>): Record<string, unknown> {
  const { __provider, ...rest } = inputs;
  return __provider === undefined ? inputs : { ...rest, __provider: "<serialized dynamic provider>" };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

// The mocks' newResource does not see dependencies; the mock monitor's request does. Read-only wrap of the
// monitor setMocks just installed (the next setMocks replaces it).
function recordDependencies(): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const monitor = getMonitor() as unknown as { registerResource(req: RegisterRequest, callback: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    seen.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2)));
    return register(req, callback);
  };
  return seen;
}
