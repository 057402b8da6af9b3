import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { NODE_FUNCTION_KINDS, NodeFunctionKind, RunUsage } from "../../cost/report";
import { hashOf } from "../../runtime/aws/history";

/** A Task's run as its history events describe it: scheduled, started (submitted for .sync), ended. */
interface TaskRun {
  scheduled: HistoryEvent;
  startMs?: number;
  endMs?: number;
  succeeded?: boolean;
}

const RESULT = new Set(["TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed"]);

/**
 * What an execution used, read from its histories (the execution, its child executions and
 * Distributed Map iterations): each processor run (by the hash in its OUTPUT_DIR), each invocation of
 * the node's own Lambdas, state transitions and token reads. Finalize feeds it every history the
 * archive walk reads, so the histories are read once; nothing of their payloads is kept.
 */
export class HistoryUsage {
  /** Step Functions bills one transition per state entered, and one more per retry. */
  stateTransitions = 0;
  secretApiCalls = 0;
  readonly runsByHash = new Map<string, RunUsage[]>();
  readonly functions: Record<NodeFunctionKind, (number | null)[]> = { "data-transfer": [], finalize: [], join: [], tokens: [] };
  executionStartedAt?: Date;

  constructor(private readonly now: Date) {}

  add(events: readonly HistoryEvent[], isRoot: boolean): void {
    const byId = new Map(events.map((e) => [e.id, e]));
    const runs = new Map<number, TaskRun>();
    for (const e of events) {
      const type = e.type ?? "";
      if (type === "ExecutionStarted" && isRoot && e.timestamp) this.executionStartedAt = new Date(e.timestamp);
      if (type.endsWith("StateEntered")) this.stateTransitions++;
      if (type === "TaskScheduled") {
        runs.set(e.id!, { scheduled: e });
        // A retry schedules the Task again without entering its state again.
        if (byId.get(e.previousEventId)?.type !== "TaskStateEntered") this.stateTransitions++;
        continue;
      }
      const run = this.runOf(e, byId, runs);
      if (!run) continue;
      const ms = e.timestamp ? new Date(e.timestamp).getTime() : undefined;
      // Fargate bills from the task's start (after RunTask returned, TaskSubmitted), a Lambda from its invocation (TaskStarted).
      if (type === "TaskStarted" && run.startMs === undefined) run.startMs = ms;
      if (type === "TaskSubmitted") run.startMs = ms ?? run.startMs;
      if (RESULT.has(type)) {
        run.endMs = ms;
        run.succeeded = type === "TaskSucceeded";
      }
    }
    for (const run of runs.values()) this.record(run);
  }

  /** The run an event belongs to: the TaskScheduled its previousEventId chain leads back to. */
  private runOf(e: HistoryEvent, byId: Map<number | undefined, HistoryEvent>, runs: Map<number, TaskRun>): TaskRun | undefined {
    let cur: HistoryEvent | undefined = e;
    for (let i = 0; i < 4 && cur; i++) {
      cur = cur.previousEventId !== undefined ? byId.get(cur.previousEventId) : undefined;
      if (cur?.type === "TaskScheduled") return runs.get(cur.id!);
    }
    return undefined;
  }

  private record(run: TaskRun): void {
    const d = run.scheduled.taskScheduledEventDetails;
    if (!d) return;
    const start = run.startMs ?? (run.scheduled.timestamp ? new Date(run.scheduled.timestamp).getTime() : undefined);
    const seconds = start === undefined ? 0 : Math.max(0, ((run.endMs ?? this.now.getTime()) - start) / 1000);
    const usage: RunUsage = { seconds, finished: run.endMs !== undefined, ...(run.endMs !== undefined ? { outcome: run.succeeded ? "SUCCEEDED" : "FAILED" } : {}) };
    if (d.resourceType === "aws-sdk:secretsmanager" && d.resource === "getSecretValue") {
      this.secretApiCalls++;
      return;
    }
    if (d.resourceType === "ecs" && d.resource?.startsWith("runTask")) {
      // A task that never started (TaskStartFailed) was not billed.
      if (run.startMs === undefined && run.endMs !== undefined) return;
      const hash = hashOf(d.parameters);
      if (hash) this.push(hash, usage);
      return;
    }
    if (d.resourceType !== "lambda" || !d.resource?.startsWith("invoke")) return;
    const hash = hashOf(d.parameters);
    if (hash) {
      this.push(hash, usage);
      return;
    }
    const kind = nodeFunctionOf(d.parameters);
    if (!kind) return;
    // The tokens function reads the execution's token secret (to refresh it, or to write an ECS processor's environment file).
    if (kind === "tokens") this.secretApiCalls++;
    // A waitForTaskToken Task lasts until another unit releases it: its time is waiting, not the function's.
    this.functions[kind].push(d.resource === "invoke.waitForTaskToken" ? null : usage.seconds);
  }

  private push(hash: string, usage: RunUsage): void {
    const list = this.runsByHash.get(hash);
    if (list) list.push(usage);
    else this.runsByHash.set(hash, [usage]);
  }
}

/** Which of the node's Lambdas a Task invokes, from its FunctionName (`cn-<node>-<kind>`, or its ARN). */
function nodeFunctionOf(parameters: string | undefined): NodeFunctionKind | undefined {
  const name = /"FunctionName"\s*:\s*"([^"]+)"/.exec(parameters ?? "")?.[1]?.split(":").pop() ?? "";
  for (const kind of NODE_FUNCTION_KINDS) if (name.endsWith(`-${kind}`)) return kind;
  return undefined;
}
