import { z } from "zod";

export const HealthSchema = z.object({ status: z.literal("ok") }).meta({ id: "Health" });

export const ReadinessSchema = z
  .object({
    ready: z.boolean(),
    checks: z.record(z.string(), z.string()).describe("Each dependency and what was found: `ok` or why not."),
  })
  .meta({ id: "Readiness" });
