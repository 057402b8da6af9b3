/** Fargate task sizes: vCPU → allowed memory (MiB) range and step. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html */
export const FARGATE_SIZES: ReadonlyArray<{ cpu: number; minMemory: number; maxMemory: number; step: number }> = [
  { cpu: 0.25, minMemory: 512, maxMemory: 2048, step: 512 },
  { cpu: 0.5, minMemory: 1024, maxMemory: 4096, step: 1024 },
  { cpu: 1, minMemory: 2048, maxMemory: 8192, step: 1024 },
  { cpu: 2, minMemory: 4096, maxMemory: 16384, step: 1024 },
  { cpu: 4, minMemory: 8192, maxMemory: 30720, step: 1024 },
  { cpu: 8, minMemory: 16384, maxMemory: 61440, step: 4096 },
  { cpu: 16, minMemory: 32768, maxMemory: 122880, step: 8192 },
];

export const ECS_DEFAULTS = { cpu: 0.5, memory: 1024, ephemeralStorage: 20 } as const;
export const ECS_EPHEMERAL_STORAGE = { min: 20, max: 200 } as const;
export const LAMBDA_DEFAULTS = { memory: 3008, timeout: 900 } as const;
export const LAMBDA_LIMITS = { minMemory: 128, maxMemory: 10240, maxTimeout: 900 } as const;

/** Why a cpu (vCPU) / memory (MiB) pair is not a Fargate size, which of the two to change and, for memory, what the cpu allows; undefined when it is one. */
export function fargateSizeProblem(cpu: number, memory: number): { field: "cpu"; message: string } | { field: "memory"; message: string; allowed: string } | undefined {
  const size = FARGATE_SIZES.find((s) => s.cpu === cpu);
  if (!size)
    return {
      field: "cpu",
      message: `cpu ${cpu} vCPU is not a Fargate size (allowed: ${FARGATE_SIZES.map((s) => s.cpu).join(", ")} vCPU, or ${FARGATE_SIZES.map((s) => s.cpu * 1024).join(", ")} CPU units)`,
    };
  // 0.25 vCPU takes 0.5, 1 or 2 GB: not 1.5, although it lies on the 512 MiB step.
  const offered = size.cpu === 0.25 ? [512, 1024, 2048].includes(memory) : memory >= size.minMemory && memory <= size.maxMemory && memory % size.step === 0;
  if (!offered) {
    const allowed = size.cpu === 0.25 ? "512, 1024 or 2048 MiB" : `${size.minMemory}–${size.maxMemory} in steps of ${size.step} MiB`;
    return { field: "memory", message: `memory ${memory} MiB is not valid with ${cpu} vCPU on Fargate (allowed: ${allowed})`, allowed };
  }
  return undefined;
}
