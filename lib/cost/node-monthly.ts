import { CostCategory, CostLine, MissingCost } from "./report";
import { PriceKey, PriceTable } from "./price-table";

/** A resource the node program creates, as `synthNode` lists it. */
export interface NodeResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  id?: string;
}

/** Volumes a fixed monthly cost depends on but no resource states: each becomes part of its line's item. */
export interface MonthlyAssumptions {
  /** GB the processors log per month (CloudWatch storage, then the S3 archive's tiers). @default 1 */
  processorLogGb: number;
  /** GB of VPC flow logs per month (secure, compliant). @default 5 */
  flowLogGb: number;
  /** GB resident on EFS between executions. @default 1 */
  efsGb: number;
}

export const DEFAULT_MONTHLY_ASSUMPTIONS: Readonly<MonthlyAssumptions> = { processorLogGb: 1, flowLogGb: 5, efsGb: 1 };

/** The `--json` shape of `cost node`. */
export interface NodeMonthlyCost {
  totalUsd: number;
  lines: CostLine[];
  pricingVersion: string;
  region: string;
  missing: MissingCost[];
  period: "month";
}

export interface NodeMonthlyResult {
  cost: NodeMonthlyCost;
  /** USD per month of each resource that has a fixed cost, by logical name (the `node synth` column). */
  byResource: Record<string, number>;
}

export interface NodeMonthlyInput {
  resources: readonly NodeResource[];
  prices: PriceTable;
  assumptions?: Partial<MonthlyAssumptions>;
  /** The node's processor log group (stack output `logGroupName`), whose volume is `processorLogGb`. */
  processorLogGroupName?: string;
}

const T = {
  nat: "aws:ec2/natGateway:NatGateway",
  eip: "aws:ec2/eip:Eip",
  endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  key: "aws:kms/key:Key",
  flowLog: "aws:ec2/flowLog:FlowLog",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  efs: "aws:efs/fileSystem:FileSystem",
  asg: "aws:autoscaling/group:Group",
  route: "aws:ec2/route:Route",
} as const;

const round = (x: number) => Math.round(x * 1e9) / 1e9;
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const DAYS_PER_MONTH = 30;

/**
 * What a node costs per month before it runs anything, from the resources its program creates:
 * NAT gateways and their addresses, interface endpoints in each of their zones, KMS keys, flow-log
 * ingestion, log storage in CloudWatch and in the archive's tiers, EFS at rest. Gateway endpoints
 * appear at $0, so every endpoint the program creates has its line. Pure.
 */
export function nodeMonthlyCost(input: NodeMonthlyInput): NodeMonthlyResult {
  const { resources, prices } = input;
  const given = Object.fromEntries(Object.entries(input.assumptions ?? {}).filter(([, v]) => typeof v === "number" && Number.isFinite(v) && v >= 0));
  const volumes: MonthlyAssumptions = { ...DEFAULT_MONTHLY_ASSUMPTIONS, ...given };
  const price = (key: PriceKey) => prices.prices[key].usd;
  const hours = prices.rules.hoursPerMonth.value;
  const lines: (CostLine & { resource: string })[] = [];
  const missing: MissingCost[] = [];
  const add = (resource: string, item: string, category: CostCategory, quantity: number, unit: string, usd: number) => lines.push({ item, category, quantity: round(quantity), unit, usd: round(usd), resource });
  // Inputs point at other resources by id, name or ARN (a log group's: `arn:…:log-group:<name>`).
  const refersTo = (value: unknown, r: NodeResource) => {
    const v = str(value);
    if (v === undefined) return false;
    const name = str(r.inputs.name);
    return [r.id, `${r.name}-id`, str(r.inputs.arn), name].includes(v) || (name !== undefined && v.replace(/:\*$/, "").endsWith(`:log-group:${name}`));
  };
  const of = (type: string) => resources.filter((r) => r.type === type);

  const nats = of(T.nat);
  for (const nat of nats) add(nat.name, `NAT gateway ${nat.name}`, "nat", hours, "NAT gateway-hour", hours * price("nat.hour"));
  for (const route of of(T.route)) {
    const id = str(route.inputs.natGatewayId);
    if (id && !nats.some((n) => refersTo(id, n))) missing.push({ item: `shared NAT gateway ${id}`, category: "nat", reason: "the node routes through a NAT gateway it does not own: its hours are billed where it was created (its data processing is per execution)" });
  }
  for (const eip of of(T.eip)) {
    const forNat = nats.some((n) => refersTo(n.inputs.allocationId, eip));
    add(eip.name, `public IPv4 address ${eip.name}${forNat ? " (the NAT gateway's)" : ""}`, forNat ? "nat" : "other", hours, "address-hour", hours * price("ipv4.hour"));
  }
  for (const endpoint of of(T.endpoint)) {
    const service = (str(endpoint.inputs.serviceName) ?? endpoint.name).replace(/^com\.amazonaws\.[a-z0-9-]+\./, "");
    if ((endpoint.inputs.vpcEndpointType ?? "Gateway") === "Interface") {
      const zones = Array.isArray(endpoint.inputs.subnetIds) ? endpoint.inputs.subnetIds.length : 1;
      add(endpoint.name, `interface endpoint ${service} (${zones} zone${zones === 1 ? "" : "s"})`, "endpoints", zones * hours, "endpoint-AZ-hour", zones * hours * price("endpoints.interfaceAzHour"));
    } else add(endpoint.name, `gateway endpoint ${service} (no charge)`, "endpoints", 1, "endpoint", 0);
  }
  for (const key of of(T.key)) add(key.name, `KMS key ${key.name}`, "kms", 1, "key-month", price("kms.keyMonth"));

  const groups = of(T.logGroup);
  const flowGroups = new Set<string>();
  for (const flow of of(T.flowLog)) {
    add(flow.name, `VPC flow log ingestion (assumed ${volumes.flowLogGb} GB/month)`, "logs", volumes.flowLogGb, "GB", volumes.flowLogGb * price("logs.vendedIngestionGb"));
    for (const g of groups) if (refersTo(flow.inputs.logDestination, g)) flowGroups.add(g.name);
  }
  for (const g of groups) {
    const volume = flowGroups.has(g.name) ? volumes.flowLogGb : str(g.inputs.name) === input.processorLogGroupName ? volumes.processorLogGb : 0;
    if (!volume) continue;
    const retention = typeof g.inputs.retentionInDays === "number" && g.inputs.retentionInDays > 0 ? g.inputs.retentionInDays : undefined;
    // Kept forever, a group grows without bound; a month's worth is what the first month stores.
    const months = retention ? retention / DAYS_PER_MONTH : 1;
    const kept = retention ? `kept ${retention} days` : "kept forever: its first month";
    add(g.name, `CloudWatch Logs storage of ${str(g.inputs.name) ?? g.name} (${volume} GB/month, ${kept})`, "logs", volume * months, "GB-month", volume * months * price("logs.storageGbMonth"));
  }
  for (const lifecycle of of(T.lifecycle)) {
    const rule = (Array.isArray(lifecycle.inputs.rules) ? lifecycle.inputs.rules : [])[0] as { transitions?: { days?: number; storageClass?: string }[]; expiration?: { days?: number } } | undefined;
    const glacierAfter = rule?.transitions?.find((t) => t.storageClass === "GLACIER")?.days;
    const expireAfter = rule?.expiration?.days;
    if (glacierAfter === undefined) continue;
    const v = volumes.processorLogGb;
    add(lifecycle.name, `log archive in S3 Standard (${v} GB/month for ${glacierAfter} days)`, "logs", (v * glacierAfter) / DAYS_PER_MONTH, "GB-month", ((v * glacierAfter) / DAYS_PER_MONTH) * price("s3.standardGbMonth"));
    if (expireAfter !== undefined && expireAfter > glacierAfter) {
      const cold = (v * (expireAfter - glacierAfter)) / DAYS_PER_MONTH;
      add(lifecycle.name, `log archive in S3 Glacier Flexible Retrieval (${v} GB/month from day ${glacierAfter} to ${expireAfter}, once full)`, "logs", cold, "GB-month", cold * price("s3.glacierGbMonth"));
    }
  }
  for (const efs of of(T.efs)) add(efs.name, `EFS storage (assumed ${volumes.efsGb} GB at rest)`, "efs", volumes.efsGb, "GB-month", volumes.efsGb * price("efs.standardGbMonth"));
  for (const asg of of(T.asg))
    missing.push({ item: `GPU instances (${asg.name})`, category: "ecs", reason: `the Auto Scaling group keeps ${String(asg.inputs.minSize ?? 0)} instances while idle; each running ${str(asg.inputs.instanceType) ?? "g4dn"} instance is billed per hour and is not priced here` });

  const byResource: Record<string, number> = {};
  for (const l of lines) byResource[l.resource] = round((byResource[l.resource] ?? 0) + l.usd);
  const out = lines.map(({ item, category, quantity, unit, usd }) => ({ item, category, quantity, unit, usd }));
  return {
    cost: { totalUsd: round(out.reduce((s, l) => s + l.usd, 0)), lines: out, pricingVersion: prices.version, region: prices.region, missing, period: "month" },
    byResource,
  };
}
