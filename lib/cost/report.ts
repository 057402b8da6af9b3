import { PriceKey, PriceTable, RuleKey } from "./price-table";

/**
 * The one cost model: what an execution used (ExecutionUsage) priced with one region's table into
 * one report (CostReport), whoever measured the usage: the local runner, the finalize Lambda from
 * the execution's history, or an estimate from runtime hints. Pure and dependency-free: the
 * finalize Lambda bundles it. docs/cost.md describes every line.
 */

export const COST_CATEGORIES = ["ecs", "lambda", "stepfunctions", "transfer", "efs", "logs", "nat", "endpoints", "kms", "llm", "other"] as const;
export type CostCategory = (typeof COST_CATEGORIES)[number];

/** One priced line: `quantity` `unit`s cost `usd`. */
export interface CostLine {
  item: string;
  category: CostCategory;
  quantity: number;
  unit: string;
  usd: number;
}

/** Something the report could not price, and why: the total leaves it out. */
export interface MissingCost {
  item: string;
  category: CostCategory;
  reason: string;
}

export type ProcessorCostStatus = "SUCCEEDED" | "FAILED" | "STARTED" | "NOT_STARTED" | "UNKNOWN";
export type ComputeKind = "ecs" | "lambda";

/** One processor's runs, priced. */
export interface ProcessorCost {
  processorId: string;
  computeType: ComputeKind;
  status: ProcessorCostStatus;
  /** Runs billed: the first and every retry (each ECS task and each Lambda invocation is billed on its own). */
  attempts: number;
  retries: number;
  /** Seconds the runs took, summed. */
  durationSeconds: number;
  /** Seconds billed, summed: ECS rounds each task up to the second with a one-minute minimum, Lambda to the millisecond. */
  billedSeconds: number;
  vcpu: number;
  memoryMiB: number;
  ephemeralStorageGiB: number;
  usd: number;
  /** A run had not finished when the report was made: it is priced up to `generatedAt`. */
  unfinished?: boolean;
  /** Why its runs are not in the total (GPU processors run on EC2 capacity). */
  unpriced?: string;
}

export type CostReportSource = "local" | "aws" | "estimate";

/** The report every producer writes (schemas/cost-report.schema.json). */
export interface CostReport {
  reportVersion: 1;
  source: CostReportSource;
  /** True unless the figures come from AWS's own records: local runs and estimates price what a node would be charged. */
  nominal: boolean;
  computeNodeId: string;
  workflowInstanceId?: string;
  workflowName?: string;
  mode: "basic" | "secure" | "compliant";
  /** The execution's outcome, as finalize saw it. */
  status?: "SUCCEEDED" | "FAILED";
  generatedAt: string;
  currency: "USD";
  region: string;
  /** The price table's version (the date its prices were checked); `none` when the region has no table. */
  pricingVersion: string;
  /** The sum of `lines`. */
  totalUsd: number;
  lines: CostLine[];
  missing: MissingCost[];
  processors: ProcessorCost[];
  /** Estimates: seconds from start to end under the hints, read from the compiled machine. */
  makespanSeconds?: number;
}

/** What `--json` estimates print: the report's totals and lines only. */
export interface CostSummary {
  totalUsd: number;
  lines: CostLine[];
  pricingVersion: string;
  region: string;
  missing: MissingCost[];
}

/** The node's own Lambdas, which every execution invokes. */
export type NodeFunctionKind = "data-transfer" | "finalize" | "join" | "tokens";

/** Every node Lambda kind, in the order report lines list them. */
export const NODE_FUNCTION_KINDS: readonly NodeFunctionKind[] = ["data-transfer", "tokens", "finalize", "join"];

/** Memory of the node's own Lambdas (lib/node/functions.ts creates them with these). */
export const NODE_FUNCTION_MEMORY_MB: Readonly<Record<NodeFunctionKind, number>> = { "data-transfer": 1024, finalize: 1024, join: 256, tokens: 256 };

/** One billed run: an ECS task or a Lambda invocation. */
export interface RunUsage {
  seconds: number;
  /** False when the run had not ended at report time (`seconds` then runs up to it). */
  finished: boolean;
  /** How it ended, when the measuring side saw it: a processor's status when no record gives one. */
  outcome?: "SUCCEEDED" | "FAILED";
}

export interface ProcessorUsage {
  processorId: string;
  computeType: ComputeKind;
  vcpu: number;
  memoryMiB: number;
  /** @default 20 */
  ephemeralStorageGiB?: number;
  /** GPUs per task: such a task runs on EC2 capacity, which is not priced per task. @default 0 */
  gpu?: number;
  status: ProcessorCostStatus;
  runs: RunUsage[];
}

/** What one execution used; absent fields become `missing` entries, never a failure. */
export interface ExecutionUsage {
  source: CostReportSource;
  computeNodeId: string;
  workflowInstanceId?: string;
  workflowName?: string;
  mode: "basic" | "secure" | "compliant";
  status?: "SUCCEEDED" | "FAILED";
  /** ISO time the report describes the execution at. */
  generatedAt: string;
  processors: ProcessorUsage[];
  /** Step Functions state transitions, retries included, child machines and map iterations included. */
  stateTransitions?: number;
  /**
   * Seconds of each invocation of the node's own Lambdas; `null` for an invocation whose duration
   * cannot be told (a join-wait Task lasts as long as its unit waits for its token): its request is priced.
   */
  functions?: Partial<Record<NodeFunctionKind, (number | null)[]>>;
  /** Log events the processors wrote and their bytes (CloudWatch Logs ingestion). */
  logs?: { events: number; bytes: number };
  /** Secrets Manager calls for the execution's token secret: its creation, each read (a Lambda processor's ResolveToken, each tokens-function call) and its deletion. */
  secretApiCalls?: number;
  /** Seconds the token secret existed (billed by the started hour). */
  secretSeconds?: number;
  /** GB moved through the NAT gateway (secure) or interface endpoints (compliant); unknown unless measured. */
  networkGb?: number;
  /** EFS use; unknown unless measured. */
  efs?: { readGb: number; writtenGb: number; storedGbMonths: number };
  /** The execution's Bedrock use, from the LLM governor. */
  llm?: { usd: number; calls: number };
  /** Extra things the measuring side could not see (a history it could not read…). */
  missing?: MissingCost[];
  makespanSeconds?: number;
  /** Region of the table when `prices` is undefined, for the report. */
  region?: string;
}

const GIB = 1024 ** 3;
/** Floating-point products like 0.1 × 1000 land a hair above an integer; billing must not round them up a whole unit. */
const EPSILON = 1e-9;
const ceilUnits = (x: number) => Math.max(0, Math.ceil(x - EPSILON));
const roundUsd = (x: number) => Math.round(x * 1e9) / 1e9;
const roundQty = (x: number) => Math.round(x * 1e9) / 1e9;

/** Seconds Fargate bills for one task: rounded up to the second, at least the minimum. */
export function fargateBilledSeconds(seconds: number, minimumSeconds: number): number {
  return Math.max(minimumSeconds, ceilUnits(seconds));
}

/** Milliseconds Lambda bills for one invocation: rounded up to the granularity, no minimum. */
export function lambdaBilledMs(seconds: number, granularityMs: number): number {
  return ceilUnits((seconds * 1000) / granularityMs) * granularityMs;
}

class LineBook {
  private readonly lines = new Map<string, CostLine>();
  add(item: string, category: CostCategory, unit: string, quantity: number, usd: number): void {
    const line = this.lines.get(item) ?? { item, category, quantity: 0, unit, usd: 0 };
    line.quantity += quantity;
    line.usd += usd;
    this.lines.set(item, line);
  }
  /** Lines with something in them, rounded, in the order first added. */
  done(): CostLine[] {
    return [...this.lines.values()].filter((l) => l.quantity > 0 || l.usd > 0).map((l) => ({ ...l, quantity: roundQty(l.quantity), usd: roundUsd(l.usd) }));
  }
}

/**
 * Prices an execution's usage. `prices` undefined (a region without a table) gives a report whose
 * every cost is missing rather than an error: a report never fails an execution.
 */
export function buildCostReport(usage: ExecutionUsage, prices: PriceTable | undefined): CostReport {
  const missing: MissingCost[] = [...(usage.missing ?? [])];
  // The measuring side may already have said why something is missing, better than the model can.
  const miss = (entry: MissingCost) => {
    if (!missing.some((m) => m.item === entry.item)) missing.push(entry);
  };
  const base = {
    reportVersion: 1 as const,
    source: usage.source,
    nominal: usage.source !== "aws",
    computeNodeId: usage.computeNodeId,
    ...(usage.workflowInstanceId ? { workflowInstanceId: usage.workflowInstanceId } : {}),
    ...(usage.workflowName ? { workflowName: usage.workflowName } : {}),
    mode: usage.mode,
    ...(usage.status ? { status: usage.status } : {}),
    generatedAt: usage.generatedAt,
    currency: "USD" as const,
  };
  if (!prices) {
    const region = usage.region ?? "unknown";
    return {
      ...base,
      region,
      pricingVersion: "none",
      totalUsd: 0,
      lines: [],
      missing: [...missing, { item: "every cost", category: "other", reason: `no price table for region "${region}" (docs/cost.md "Prices")` }],
      processors: usage.processors.map((p) => processorShell(p)),
      ...(usage.makespanSeconds !== undefined ? { makespanSeconds: usage.makespanSeconds } : {}),
    };
  }
  const price = (key: PriceKey) => prices.prices[key].usd;
  const rule = (key: RuleKey) => prices.rules[key].value;
  const book = new LineBook();
  const processors: ProcessorCost[] = [];
  let publicIpSeconds = 0;

  for (const p of usage.processors) {
    const cost = processorShell(p);
    const runs = validRuns(p);
    if (p.computeType === "ecs" && (p.gpu ?? 0) > 0) {
      cost.unpriced = "runs on the node's EC2 GPU instances, billed per instance-hour while the Auto Scaling group keeps them, not per task";
      if (runs.length) miss({ item: `processor "${p.processorId}" on GPU capacity`, category: "ecs", reason: cost.unpriced });
      processors.push(cost);
      continue;
    }
    let usd = 0;
    let billed = 0;
    for (const run of runs) {
      if (p.computeType === "ecs") {
        const actual = ceilUnits(run.seconds);
        const charged = fargateBilledSeconds(run.seconds, rule("fargateMinimumSeconds"));
        const gb = p.memoryMiB / 1024;
        const extraStorage = Math.max(0, (p.ephemeralStorageGiB ?? 20) - rule("fargateIncludedStorageGb"));
        const perSecond = (p.vcpu * price("fargate.vcpuHour") + gb * price("fargate.gbHour") + extraStorage * price("fargate.storageGbHour")) / 3600;
        book.add("Fargate vCPU", "ecs", "vCPU-hour", (p.vcpu * actual) / 3600, (p.vcpu * actual * price("fargate.vcpuHour")) / 3600);
        book.add("Fargate memory", "ecs", "GB-hour", (gb * actual) / 3600, (gb * actual * price("fargate.gbHour")) / 3600);
        if (extraStorage > 0) book.add("Fargate ephemeral storage beyond the included 20 GB", "ecs", "GB-hour", (extraStorage * actual) / 3600, (extraStorage * actual * price("fargate.storageGbHour")) / 3600);
        if (charged > actual) book.add("Fargate one-minute minimum", "ecs", "task-second", charged - actual, (charged - actual) * perSecond);
        if (usage.mode === "basic") publicIpSeconds += charged;
        usd += charged * perSecond;
        billed += charged;
      } else {
        const ms = lambdaBilledMs(run.seconds, rule("lambdaGranularityMs"));
        const gbSeconds = (p.memoryMiB / 1024) * (ms / 1000);
        book.add("Lambda processor duration", "lambda", "GB-second", gbSeconds, gbSeconds * price("lambda.gbSecond"));
        book.add("Lambda processor requests", "lambda", "request", 1, price("lambda.request"));
        usd += gbSeconds * price("lambda.gbSecond") + price("lambda.request");
        billed += ms / 1000;
      }
    }
    cost.usd = roundUsd(usd);
    cost.billedSeconds = roundQty(billed);
    processors.push(cost);
  }

  if (usage.stateTransitions !== undefined) book.add("Step Functions state transitions", "stepfunctions", "transition", usage.stateTransitions, usage.stateTransitions * price("stepfunctions.transition"));
  else miss({ item: "Step Functions state transitions", category: "stepfunctions", reason: "the execution's state transitions were not counted" });

  if (usage.functions) {
    for (const kind of NODE_FUNCTION_KINDS) {
      const invocations = usage.functions[kind] ?? [];
      const category: CostCategory = kind === "data-transfer" ? "transfer" : "lambda";
      let untimed = 0;
      for (const seconds of invocations) {
        if (seconds === null) untimed++;
        const gbSeconds = seconds === null ? 0 : (NODE_FUNCTION_MEMORY_MB[kind] / 1024) * (lambdaBilledMs(seconds, rule("lambdaGranularityMs")) / 1000);
        book.add(`${kind} function duration`, category, "GB-second", gbSeconds, gbSeconds * price("lambda.gbSecond"));
        book.add(`${kind} function requests`, category, "request", 1, price("lambda.request"));
      }
      if (untimed)
        miss({ item: `${kind} function duration of ${untimed} join-wait invocation${untimed > 1 ? "s" : ""}`, category, reason: "a join-wait Task lasts until its unit's dependencies finish, so its time is waiting, not the function's; the requests are priced" });
    }
  } else miss({ item: "the node's Lambdas (data-transfer, tokens, finalize, join)", category: "transfer", reason: "their invocations were not measured" });

  if (usage.logs) {
    const gb = (usage.logs.bytes + usage.logs.events * rule("logEventOverheadBytes")) / GIB;
    book.add("CloudWatch Logs ingestion", "logs", "GB", gb, gb * price("logs.ingestionGb"));
  } else miss({ item: "CloudWatch Logs ingestion", category: "logs", reason: "the processors' log volume was not measured" });

  if (usage.mode !== "basic") {
    const [item, category, key] = usage.mode === "secure" ? (["NAT gateway data processing", "nat", "nat.gb"] as const) : (["interface endpoint data processing", "endpoints", "endpoints.gb"] as const);
    if (usage.networkGb !== undefined) book.add(item, category, "GB", usage.networkGb, usage.networkGb * price(key));
    else miss({ item, category, reason: `the bytes processors and the node's Lambdas move through it (image pulls, downloads, AWS API calls) are not recorded; it costs $${price(key)} per GB` });
  }

  if (usage.efs) {
    book.add("EFS reads (Elastic Throughput)", "efs", "GB", usage.efs.readGb, usage.efs.readGb * price("efs.readGb"));
    book.add("EFS writes (Elastic Throughput)", "efs", "GB", usage.efs.writtenGb, usage.efs.writtenGb * price("efs.writeGb"));
    book.add("EFS storage", "efs", "GB-month", usage.efs.storedGbMonths, usage.efs.storedGbMonths * price("efs.standardGbMonth"));
  } else miss({ item: "EFS throughput and storage", category: "efs", reason: `the bytes read and written on EFS are not recorded; Elastic Throughput costs $${price("efs.readGb")} per GB read and $${price("efs.writeGb")} per GB written` });

  if (publicIpSeconds > 0) book.add("public IPv4 addresses of Fargate tasks", "other", "address-hour", publicIpSeconds / 3600, (publicIpSeconds / 3600) * price("ipv4.hour"));
  if (usage.secretApiCalls !== undefined) book.add("Secrets Manager API calls (token secret)", "other", "API call", usage.secretApiCalls, usage.secretApiCalls * price("secrets.apiCall"));
  if (usage.secretSeconds !== undefined) {
    const hours = Math.max(1, ceilUnits(usage.secretSeconds / 3600));
    book.add("token secret storage", "other", "secret-hour", hours, (hours * price("secrets.secretMonth")) / rule("hoursPerMonth"));
  }
  if (usage.llm) book.add("LLM (Bedrock) usage", "llm", "call", usage.llm.calls, usage.llm.usd);

  const lines = book.done();
  return {
    ...base,
    region: prices.region,
    pricingVersion: prices.version,
    totalUsd: roundUsd(lines.reduce((sum, l) => sum + l.usd, 0)),
    lines,
    missing,
    processors,
    ...(usage.makespanSeconds !== undefined ? { makespanSeconds: usage.makespanSeconds } : {}),
  };
}

/** A processor's runs before pricing: what it did, at no cost yet. */
function processorShell(p: ProcessorUsage): ProcessorCost {
  const runs = validRuns(p);
  return {
    processorId: p.processorId,
    computeType: p.computeType,
    status: p.status,
    attempts: runs.length,
    retries: Math.max(0, runs.length - 1),
    durationSeconds: roundQty(runs.reduce((s, r) => s + r.seconds, 0)),
    billedSeconds: 0,
    vcpu: p.vcpu,
    memoryMiB: p.memoryMiB,
    ephemeralStorageGiB: p.ephemeralStorageGiB ?? 20,
    usd: 0,
    ...(runs.some((r) => !r.finished) ? { unfinished: true } : {}),
  };
}

const validRuns = (p: ProcessorUsage) => p.runs.filter((r) => Number.isFinite(r.seconds) && r.seconds >= 0);

/** The `--json` shape of estimates: totals and lines, nothing per processor. */
export function costSummary(report: Pick<CostReport, "totalUsd" | "lines" | "pricingVersion" | "region" | "missing">): CostSummary {
  return { totalUsd: report.totalUsd, lines: report.lines, pricingVersion: report.pricingVersion, region: report.region, missing: report.missing };
}
