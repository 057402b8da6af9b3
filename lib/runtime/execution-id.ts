import { randomBytes } from "node:crypto";

/**
 * The one generator of execution ids, for both runtimes: `wi-<UTC time to the second>-<6 hex>`,
 * e.g. `wi-20260102T030405Z-a1b2c3`. The id is also the workflow instance id, so it must name a
 * Step Functions execution (≤ 80 of [A-Za-z0-9_-]) and a record directory; ids sort by start time.
 * `now` comes from the caller's clock.
 */
export function newExecutionId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `wi-${stamp}-${randomBytes(3).toString("hex")}`;
}
