import { GetExecutionHistoryCommand, GetExecutionHistoryCommandOutput, HistoryEvent, ListExecutionsCommand, ListExecutionsCommandOutput, SFNClient } from "@aws-sdk/client-sfn";

/**
 * The processor runs of one execution, read from its own Step Functions history (child executions
 * and Distributed Map iterations included): each ECS task (runTask.sync) and each processor Lambda
 * invocation, with the hash of the processor it ran (the last segment of its OUTPUT_DIR).
 *
 * Imports only @aws-sdk/client-sfn on purpose: the finalize Lambda bundles it (see
 * lib/node/handler-archive.ts) beside the tracker that uses it here. The histories carry container overrides and Lambda payloads with the
 * execution's tokens: only the task ARN, the request id and the output dir's last segment are kept.
 */
export type ProcessorRun = { kind: "ecs"; taskArn: string; taskId: string; hash?: string } | { kind: "lambda"; requestId: string; hash?: string };

export interface ExecutionRuns {
  /** The execution's start (its ExecutionStarted event). */
  startedAt?: Date;
  runs: ProcessorRun[];
  /** Executions whose history was read (the execution, its children and map-run iterations). */
  executions: number;
  /** True when the walk stopped at maxExecutions or maxDepth with executions left unread. */
  truncated: boolean;
}

export interface ExecutionRunsOptions {
  /** Levels of child executions / map runs followed below the execution. @default 3 */
  maxDepth?: number;
  /** Histories read at most, so a huge exact-mode run cannot exhaust the function. @default 2000 */
  maxExecutions?: number;
  /** Sees every history read (the execution's own first), so a caller can measure more without reading them twice. */
  onHistory?: (events: HistoryEvent[], executionArn: string, depth: number) => void;
}

const TASK_RESULT = new Set(["TaskSubmitted", "TaskSucceeded", "TaskFailed"]);

export async function executionRuns(sfn: Pick<SFNClient, "send">, executionArn: string, options: ExecutionRunsOptions = {}): Promise<ExecutionRuns> {
  const maxDepth = options.maxDepth ?? 3;
  const maxExecutions = options.maxExecutions ?? 2000;
  const out: ExecutionRuns = { runs: [], executions: 0, truncated: false };
  const seenTasks = new Set<string>();
  const seenExecutions = new Set<string>();
  const queue: { arn: string; depth: number }[] = [{ arn: executionArn, depth: 0 }];
  while (queue.length) {
    const { arn, depth } = queue.shift()!;
    if (seenExecutions.has(arn)) continue;
    if (out.executions >= maxExecutions) {
      out.truncated = true;
      break;
    }
    seenExecutions.add(arn);
    out.executions++;
    const events = await executionHistory(sfn, arn);
    options.onHistory?.(events, arn, depth);
    const found = runsOf(events);
    if (depth === 0) out.startedAt = events.find((e) => e.type === "ExecutionStarted")?.timestamp;
    for (const run of found.runs) {
      const key = run.kind === "ecs" ? run.taskArn : run.requestId;
      if (!seenTasks.has(key)) {
        seenTasks.add(key);
        out.runs.push(run);
      }
    }
    if (found.children.length + found.mapRuns.length && depth >= maxDepth) {
      out.truncated = true;
      continue;
    }
    for (const child of found.children) queue.push({ arn: child, depth: depth + 1 });
    for (const mapRun of found.mapRuns) for (const iteration of await mapRunIterations(sfn, mapRun)) queue.push({ arn: iteration.executionArn, depth: depth + 1 });
  }
  return out;
}

/** The processor runs, child executions and map runs one history names. */
export function runsOf(events: HistoryEvent[]): { runs: ProcessorRun[]; children: string[]; mapRuns: string[] } {
  const byId = new Map(events.map((e) => [e.id, e]));
  const runs: ProcessorRun[] = [];
  const children: string[] = [];
  const mapRuns: string[] = [];
  for (const e of events) {
    const mapRunArn = e.mapRunStartedEventDetails?.mapRunArn;
    if (mapRunArn && !mapRuns.includes(mapRunArn)) mapRuns.push(mapRunArn);
    if (!TASK_RESULT.has(e.type ?? "")) continue;
    const d = e.taskSubmittedEventDetails ?? e.taskSucceededEventDetails ?? e.taskFailedEventDetails;
    if (!d) continue;
    const text = "output" in d ? d.output : "cause" in d ? d.cause : undefined;
    if (d.resourceType === "states" && d.resource?.startsWith("startExecution")) {
      const child = pick(text, (v) => v.ExecutionArn ?? v.executionArn) ?? field(text, "ExecutionArn");
      if (child && !children.includes(child)) children.push(child);
    } else if (d.resourceType === "ecs" && d.resource?.startsWith("runTask")) {
      const taskArn = pick(text, (v) => v.TaskArn ?? v.taskArn ?? (v.Tasks as Record<string, unknown>[] | undefined)?.[0]?.TaskArn) ?? field(text, "TaskArn");
      if (!taskArn) continue;
      const hash = scheduledHash(e, byId) ?? hashOf(text);
      runs.push({ kind: "ecs", taskArn, taskId: taskArn.slice(taskArn.lastIndexOf("/") + 1), ...(hash ? { hash } : {}) });
    } else if (d.resourceType === "lambda" && e.type === "TaskSucceeded") {
      // Only processor invocations carry an outputDir; data-transfer, join and finalize do not.
      const hash = scheduledHash(e, byId);
      const requestId = pick(text, (v) => (v.SdkResponseMetadata as Record<string, unknown> | undefined)?.RequestId ?? (v.SdkHttpMetadata as { HttpHeaders?: Record<string, unknown> } | undefined)?.HttpHeaders?.["x-amzn-RequestId"]);
      if (hash && requestId) runs.push({ kind: "lambda", requestId, hash });
    }
  }
  return { runs, children, mapRuns };
}

/** The processor hash of the TaskScheduled a result follows (TaskScheduled → TaskStarted → [TaskSubmitted →] result). */
function scheduledHash(e: HistoryEvent, byId: Map<number | undefined, HistoryEvent>): string | undefined {
  let cur: HistoryEvent | undefined = e;
  for (let i = 0; i < 4 && cur; i++) {
    if (cur.type === "TaskScheduled") return hashOf(cur.taskScheduledEventDetails?.parameters);
    cur = cur.previousEventId !== undefined ? byId.get(cur.previousEventId) : undefined;
  }
  return undefined;
}

/**
 * The last path segment of OUTPUT_DIR (ECS container override) or `outputDir` (Lambda payload).
 * A regular expression rather than JSON.parse: causes may be truncated, and nothing else of the
 * text (tokens sit beside OUTPUT_DIR) is ever held.
 */
export function hashOf(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const Q = String.raw`\\?"`;
  const patterns = [
    new RegExp(`${Q}Name${Q}\\s*:\\s*${Q}OUTPUT_DIR${Q}\\s*,\\s*${Q}Value${Q}\\s*:\\s*${Q}([^"\\\\]*)`, "i"),
    new RegExp(`${Q}Value${Q}\\s*:\\s*${Q}([^"\\\\]*)${Q}\\s*,\\s*${Q}Name${Q}\\s*:\\s*${Q}OUTPUT_DIR${Q}`, "i"),
    new RegExp(`${Q}outputDir${Q}\\s*:\\s*${Q}([^"\\\\]*)`),
  ];
  for (const re of patterns) {
    const dir = re.exec(text)?.[1]?.replace(/\/+$/, "");
    if (dir) return dir.slice(dir.lastIndexOf("/") + 1) || undefined;
  }
  return undefined;
}

/** A string picked from JSON text; the parsed value is dropped at once (it may hold tokens). */
function pick(text: string | undefined, get: (value: Record<string, unknown>) => unknown): string | undefined {
  try {
    const value = JSON.parse(text ?? "") as unknown;
    const got = value && typeof value === "object" ? get(value as Record<string, unknown>) : undefined;
    return typeof got === "string" && got ? got : undefined;
  } catch {
    return undefined;
  }
}

/** The first string value of `"<name>": "…"` (any case of the first letter), also in truncated JSON. */
function field(text: string | undefined, name: string): string | undefined {
  if (!text) return undefined;
  const re = new RegExp(`"[${name[0].toUpperCase()}${name[0].toLowerCase()}]${name.slice(1)}"\\s*:\\s*"([^"\\\\]+)"`);
  return re.exec(text)?.[1];
}

/** Every page of an execution's history, in event order. */
export async function executionHistory(sfn: Pick<SFNClient, "send">, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page: GetExecutionHistoryCommandOutput = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken, includeExecutionData: true }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
}

/** Every iteration execution of a Distributed Map run, with its stop date once it has ended. */
export async function mapRunIterations(sfn: Pick<SFNClient, "send">, mapRunArn: string): Promise<{ executionArn: string; stopDate?: Date }[]> {
  const iterations: { executionArn: string; stopDate?: Date }[] = [];
  let nextToken: string | undefined;
  do {
    const page: ListExecutionsCommandOutput = await sfn.send(new ListExecutionsCommand({ mapRunArn, maxResults: 1000, nextToken }));
    for (const e of page.executions ?? []) if (e.executionArn) iterations.push({ executionArn: e.executionArn, ...(e.stopDate ? { stopDate: new Date(e.stopDate) } : {}) });
    nextToken = page.nextToken;
  } while (nextToken);
  return iterations;
}
