import { z } from "zod";
import { FARGATE_SIZES } from "./limits";

/** ECS CPU units Fargate offers (1024 units = 1 vCPU): 256, 512, 1024, 2048, 4096, 8192, 16384. */
export const FARGATE_CPU_UNITS: readonly number[] = FARGATE_SIZES.map((s) => s.cpu * 1024);

/** Fargate's largest task, in vCPU: every cpu value up to this is vCPU, every value above is ECS CPU units. */
export const MAX_VCPU = FARGATE_SIZES[FARGATE_SIZES.length - 1].cpu;

// The two forms of an ECS task definition's `cpu` string: "1024" (units) and "1 vCPU".
const CPU_STRING = /^\s*(\d+(?:\.\d+)?)\s*(vcpu)?\s*$/i;

/**
 * A registration's cpu in vCPU, or undefined when it is neither form. The rule has no overlap:
 * a number up to 16 is vCPU (0.25, 0.5, 1 …), a larger one is ECS CPU units and must be one
 * Fargate offers (256 … 16384, so 1024 is 1 vCPU); strings are read as an ECS task definition
 * writes them ("1024", "1 vCPU").
 */
export function cpuToVcpu(value: number | string): number | undefined {
  let amount = value;
  if (typeof value === "string") {
    const match = CPU_STRING.exec(value);
    if (!match) return undefined;
    amount = Number(match[1]);
    if (match[2]) return amount > 0 && amount <= MAX_VCPU ? amount : undefined;
  }
  const n = amount as number;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  if (n <= MAX_VCPU) return n;
  return FARGATE_CPU_UNITS.includes(n) ? n / 1024 : undefined;
}

/** What is wrong with a cpu value {@link cpuToVcpu} refuses, and what to write instead. */
export function cpuProblem(value: unknown): string {
  return `cpu ${JSON.stringify(value)} is neither vCPU (0.25–${MAX_VCPU}) nor ECS CPU units (${FARGATE_CPU_UNITS.join(", ")}): write vCPU such as 0.5, or CPU units such as 512`;
}

/**
 * A registration's `cpu`, as users write it, parsed to vCPU: the one unit the plan, task
 * definitions, cost reports and snapshots carry. Idempotent, so a snapshot parses back unchanged.
 */
export const CpuSchema = z
  .union([z.number(), z.string()], { error: (issue) => cpuProblem(issue.input) })
  // Editors check the precise forms; zod checks them in the transform, with one message for every miss.
  .meta({
    anyOf: [
      { type: "number", exclusiveMinimum: 0, maximum: MAX_VCPU, description: "vCPU: 0.25, 0.5, 1, 2, 4, 8 or 16 on Fargate" },
      { type: "integer", enum: [...FARGATE_CPU_UNITS], description: "ECS CPU units: 1024 units = 1 vCPU" },
      { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*([vV][cC][pP][uU])?\\s*$", description: 'as an ECS task definition writes it: "1024" (units) or "1 vCPU"' },
    ],
  })
  .transform((value, ctx) => {
    const vcpu = cpuToVcpu(value);
    if (vcpu !== undefined) return vcpu;
    ctx.issues.push({ code: "custom", input: value, message: cpuProblem(value), params: { code: "invalid_cpu" } });
    return z.NEVER;
  });
