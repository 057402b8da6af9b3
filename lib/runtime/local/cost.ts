import { ComputeType } from "../../model/mode";

/**
 * Nominal on-demand prices (USD, us-east-1, Linux/x86). A local run has no bill: the report says
 * what the same run would roughly cost on a node, for comparing workflows, not for invoicing.
 */
export const NOMINAL_PRICES = {
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  /** Fargate bills per second with a one-minute minimum per task. */
  fargateMinimumSeconds: 60,
  lambdaGbSecond: 0.0000166667,
  lambdaPerRequest: 0.0000002,
} as const;

export interface CostLine {
  processorId: string;
  computeType: ComputeType;
  cpu: number;
  memory: number;
  durationSeconds: number;
  estimatedUsd: number;
}

export interface CostReport {
  workflowInstanceId: string;
  currency: "USD";
  /** Always true for local runs: prices are list prices, not a bill. */
  nominal: true;
  note: string;
  processors: CostLine[];
  totalUsd: number;
}

export function estimateCost(computeType: ComputeType, cpu: number, memoryMiB: number, durationSeconds: number): number {
  const gb = memoryMiB / 1024;
  if (computeType === "lambda") return gb * Math.max(durationSeconds, 0.001) * NOMINAL_PRICES.lambdaGbSecond + NOMINAL_PRICES.lambdaPerRequest;
  const billed = Math.max(durationSeconds, NOMINAL_PRICES.fargateMinimumSeconds) / 3600;
  return billed * (cpu * NOMINAL_PRICES.fargateVcpuHour + gb * NOMINAL_PRICES.fargateGbHour);
}

export function buildCostReport(workflowInstanceId: string, lines: Omit<CostLine, "estimatedUsd">[]): CostReport {
  const processors = lines.map((l) => ({ ...l, estimatedUsd: round(estimateCost(l.computeType, l.cpu, l.memory, l.durationSeconds)) }));
  return {
    workflowInstanceId,
    currency: "USD",
    nominal: true,
    note: "Local run: durations are measured on this machine and priced at nominal us-east-1 Fargate/Lambda list prices; this is not a bill.",
    processors,
    totalUsd: round(processors.reduce((sum, p) => sum + p.estimatedUsd, 0)),
  };
}

const round = (n: number) => Math.round(n * 1e8) / 1e8;
