import { FilterLogEventsCommand, FilterLogEventsCommandOutput, GetLogEventsCommand, GetLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import { GetObjectCommand, ListObjectsV2Command, ListObjectsV2CommandOutput } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { NotFoundError, ValidationError } from "../../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../../model/execution-record";
import { NodeOutputs } from "../../model/node-outputs";
import { ExecutionRecordStore } from "../../model/record-store";
import { AwsClients } from "./clients";
import { isNotFound, toRuntimeError } from "./errors";
import { executionRuns, ProcessorRun } from "./history";
import { refreshExecutionStatus } from "./tracking";

export interface ReadProcessorLogsOptions {
  executionId: string;
  processorId: string;
  store: ExecutionRecordStore;
  clients: AwsClients;
  /** The node's stack outputs: its log group, and its env-file bucket for the refreshes `follow` makes. */
  node: NodeOutputs;
  /** Keep reading until the processor has finished. @default false: what is there now */
  follow?: boolean;
  /** Ends a `follow` early (the iteration then simply ends). */
  signal?: AbortSignal;
  /** Pause between polls while following. @default 2000 */
  pollMs?: number;
}

// The ECS container's awslogs stream: `<awslogs-stream-prefix>/<container>/<task id>` (register-ecs.ts sets prefix "processor").
const ecsStream = (taskId: string) => `processor/processor/${taskId}`;

/**
 * A processor's log lines (`<ISO timestamp> <message>`, oldest first) in one execution. After
 * finalize has archived them (the record's `logArchive` artifact is an `s3://` prefix) they come
 * from the archive; otherwise from the node's CloudWatch log group: each ECS task's stream, and each
 * finished Lambda invocation's lines found by its request id. With `follow` it polls until the
 * processor is no longer NOT_STARTED or STARTED, refreshing the record from Step Functions.
 * An unknown execution or processor is a NotFoundError (the latter lists the processor ids).
 */
export async function* readProcessorLogs(options: ReadProcessorLogsOptions): AsyncIterable<string> {
  const { executionId, processorId, store, clients, node } = options;
  let record = await store.get(executionId);
  if (!record) throw new NotFoundError(`no execution "${executionId}" in the execution record store`);
  if (!record.processors[processorId])
    throw new NotFoundError(`execution "${executionId}" has no processor "${processorId}" (processors: ${Object.keys(record.processors).join(", ")})`);

  const archive = archivePrefix(record);
  if (archive && isTerminalExecutionStatus(record.status)) {
    let found = false;
    for await (const line of archivedLines(clients, archive, processorId)) {
      found = true;
      yield line;
    }
    // An archive without per-processor objects (the `logs.jsonl` fallback) cannot say which lines are whose.
    if (found) return;
  }

  const logs = clients.logs;
  if (!logs) throw new ValidationError([{ code: "logs_client_missing", path: ["clients", "logs"], message: "reading processor logs needs a CloudWatch Logs client (createAwsClients builds one)" }]);
  const hash = record.snapshot.resolved.find((p) => p.id === processorId)?.hash;
  const cursors = new Map<string, string | undefined>();
  const lambdaDone = new Set<string>();
  const pollMs = options.pollMs ?? 2000;
  for (;;) {
    const finished = !options.follow || isDone(record, processorId);
    if (record.executionArn) {
      const runs = (await executionRuns(limitedSfn(clients), record.executionArn)).runs.filter((r) => hash !== undefined && r.hash === hash);
      for (const run of runs) {
        if (options.signal?.aborted) return;
        if (run.kind === "ecs") yield* streamLines(clients, node.logGroupName, ecsStream(run.taskId), cursors);
        else if (!lambdaDone.has(run.requestId)) {
          lambdaDone.add(run.requestId);
          yield* invocationLines(clients, node.logGroupName, run, record.startedAt ? Date.parse(record.startedAt) : undefined);
        }
      }
    }
    if (finished || options.signal?.aborted) return;
    if (!(await pause(pollMs, options.signal))) return;
    record = await refreshExecutionStatus({ executionId, store, clients, envFileBucket: node.envFileBucket });
  }
}

function isDone(record: ExecutionRecord, processorId: string): boolean {
  const status = record.processors[processorId]?.status;
  return isTerminalExecutionStatus(record.status) || (status !== "NOT_STARTED" && status !== "STARTED");
}

/** `s3://bucket/executions/<node>/<instance>` from the record's `logArchive` artifact (a trailing `/` or `/processors` is allowed). */
function archivePrefix(record: ExecutionRecord): { bucket: string; prefix: string } | undefined {
  const uri = record.artifacts?.logArchive;
  const match = uri ? /^s3:\/\/([^/]+)\/(.+?)\/?$/.exec(uri) : null;
  if (!match) return undefined;
  return { bucket: match[1], prefix: match[2].replace(/\/processors$/, "") };
}

async function* archivedLines(clients: AwsClients, archive: { bucket: string; prefix: string }, processorId: string): AsyncIterable<string> {
  const s3 = clients.s3;
  if (!s3) throw new ValidationError([{ code: "s3_client_missing", path: ["clients", "s3"], message: "reading archived processor logs needs an S3 client (createAwsClients builds one)" }]);
  const keys: string[] = [];
  const prefix = `${archive.prefix}/processors/${processorId}/`;
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await clients.limits
      .run("s3:ListObjectsV2", () => s3.send(new ListObjectsV2Command({ Bucket: archive.bucket, Prefix: prefix, ContinuationToken: token })))
      .catch((err) => {
        throw toRuntimeError(err, `ListObjectsV2 s3://${archive.bucket}/${prefix}`);
      });
    keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter(Boolean));
    token = page.NextContinuationToken;
  } while (token);
  for (const key of keys.sort()) {
    const object = await clients.limits.run("s3:GetObject", () => s3.send(new GetObjectCommand({ Bucket: archive.bucket, Key: key }))).catch((err) => {
      throw toRuntimeError(err, `GetObject s3://${archive.bucket}/${key}`);
    });
    const text = (await object.Body?.transformToString("utf8")) ?? "";
    for (const line of text.split("\n")) if (line) yield line;
  }
}

/** New events of one stream since its cursor (a stream the task has not created yet has none). */
async function* streamLines(clients: AwsClients, logGroupName: string, logStreamName: string, cursors: Map<string, string | undefined>): AsyncIterable<string> {
  const logs = clients.logs!;
  for (;;) {
    const before = cursors.get(logStreamName);
    let page: GetLogEventsCommandOutput;
    try {
      page = await clients.limits.run("logs:GetLogEvents", () => logs.send(new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true, ...(before ? { nextToken: before } : {}) })));
    } catch (err) {
      if (isNotFound(err)) return;
      throw toRuntimeError(err, `GetLogEvents ${logGroupName} ${logStreamName}`);
    }
    for (const e of page.events ?? []) yield line(e.timestamp, e.message);
    // The forward token comes back unchanged once the end of the stream is reached.
    const next = page.nextForwardToken;
    if (next) cursors.set(logStreamName, next);
    if (!next || next === before || !(page.events ?? []).length) return;
  }
}

/** A finished Lambda invocation's lines, as finalize archives them: the stream and span its request id marks. */
async function* invocationLines(clients: AwsClients, logGroupName: string, run: Extract<ProcessorRun, { kind: "lambda" }>, startTime: number | undefined): AsyncIterable<string> {
  const logs = clients.logs!;
  const filter = async (input: ConstructorParameters<typeof FilterLogEventsCommand>[0]) => {
    const events: NonNullable<FilterLogEventsCommandOutput["events"]> = [];
    let token: string | undefined;
    do {
      const page: FilterLogEventsCommandOutput = await clients.limits.run("logs:FilterLogEvents", () => logs.send(new FilterLogEventsCommand({ ...input, nextToken: token }))).catch((err) => {
        if (isNotFound(err)) return {} as FilterLogEventsCommandOutput;
        throw toRuntimeError(err, `FilterLogEvents ${logGroupName}`);
      });
      events.push(...(page.events ?? []));
      token = page.nextToken;
    } while (token);
    return events;
  };
  const spans = new Map<string, { from: number; to: number }>();
  for (const e of await filter({ logGroupName, filterPattern: `"${run.requestId}"`, ...(startTime !== undefined ? { startTime } : {}) })) {
    if (!e.logStreamName || e.timestamp === undefined) continue;
    const span = spans.get(e.logStreamName) ?? { from: e.timestamp, to: e.timestamp };
    spans.set(e.logStreamName, { from: Math.min(span.from, e.timestamp), to: Math.max(span.to, e.timestamp) });
  }
  for (const [stream, span] of spans) for (const e of await filter({ logGroupName, logStreamNames: [stream], startTime: span.from, endTime: span.to })) yield line(e.timestamp, e.message);
}

const line = (timestamp: number | undefined, message: string | undefined) => `${new Date(timestamp ?? 0).toISOString()} ${(message ?? "").replace(/\n$/, "")}`;

/** Resolves true after `ms`, or false at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The SFN client behind the shared rate limits, failures as runtime errors (what history.ts's readers take). */
function limitedSfn(clients: AwsClients): Pick<SFNClient, "send"> {
  const send = (command: { constructor: { name: string }; input: { executionArn?: string; mapRunArn?: string } }) => {
    const operation = command.constructor.name.replace(/Command$/, "");
    return clients.limits.run(`sfn:${operation}`, () => clients.sfn.send(command as never)).catch((err) => {
      throw toRuntimeError(err, `${operation} ${command.input.mapRunArn ?? command.input.executionArn}`);
    });
  };
  return { send: send as unknown as SFNClient["send"] };
}
