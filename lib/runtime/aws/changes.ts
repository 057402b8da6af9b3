/** One create, update, delete or tag a deploy or cleanup makes (or, on a dry run, would make). */
export interface PlannedChange {
  action: "create" | "update" | "delete" | "tag" | "untag" | "publish";
  kind: "task definition" | "function" | "state machine" | "state machine version";
  /** The resource's name (function name, task definition family or ARN, state machine name). */
  name: string;
  /** What makes the change necessary, e.g. "new revision (image changed)", "definition changed". */
  why: string;
}

/**
 * What the registration and state machine helpers report their changes to. With `dryRun` they
 * only read, and every mutating call they would have sent is recorded here instead.
 */
export interface ChangeRecorder {
  dryRun: boolean;
  changes: PlannedChange[];
}

export function changeRecorder(dryRun = false): ChangeRecorder {
  return { dryRun, changes: [] };
}

/** Records a change, then runs `apply` unless this is a dry run (then `planned` stands in for its result). */
export async function applyChange<T>(recorder: ChangeRecorder | undefined, change: PlannedChange, apply: () => Promise<T>, planned: () => T): Promise<T> {
  recorder?.changes.push(change);
  return recorder?.dryRun ? planned() : apply();
}

/** `created function proc-lambda-…: new image`, `would update state machine cn-…: definition changed`. */
export function describeChange(change: PlannedChange, dryRun: boolean): string {
  const past: Record<PlannedChange["action"], string> = { create: "created", update: "updated", delete: "deleted", tag: "tagged", untag: "untagged", publish: "published" };
  return `${dryRun ? `would ${change.action}` : past[change.action]} ${change.kind} ${change.name}: ${change.why}`;
}
