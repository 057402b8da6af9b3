import { gunzipSync } from "node:zlib";
import { CloudWatchLogsClient, FilterLogEventsCommand, FilterLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { FinalizeConfigError, FinalizeInputError } from "../../errors";
import { awsErrorName, isNotFound } from "../../runtime/aws/errors";
import { tokenSecretName } from "../tokens/contract";
import { deleteEnvFile, deleteTokenSecret } from "../tokens/aws";
import { ExecutionRuns, executionRuns } from "../../runtime/aws/history";
import { FinalizeEvent, FinalizeResult, StopResult } from "./contract";
import { createStopHandler, isStopEvent } from "./stopped";
import { systemClock } from "../../clock";
import { CostRecord, LlmTotals, LogTally, finalizeCostReport } from "./cost";
import { readExecutionLlmTotals } from "../llm/lambda";
import type { MissingCost } from "../../cost/report";
import { HistoryUsage } from "./history-usage";

export interface FinalizeHandlerOptions {
  s3?: Pick<S3Client, "send">;
  logs?: Pick<CloudWatchLogsClient, "send">;
  sfn?: Pick<SFNClient, "send">;
  dynamodb?: Pick<DynamoDBClient, "send">;
  secrets?: Pick<SecretsManagerClient, "send">;
  /** LOG_GROUP_NAME, LOG_ARCHIVE_BUCKET, EXECUTION_TABLE (optional), ENV_FILE_BUCKET (optional), LLM_USAGE_TABLE (nodes with LLM access), AWS_REGION (the price table; Lambda sets it). @default process.env */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Stop each archive object after this many log events, so a chatty run cannot exhaust the function. @default 200000 */
  maxLogEvents?: number;
  /** Histories read at most (the execution, its children, map-run iterations). @default 2000 */
  maxExecutions?: number;
}

type RecordLike = CostRecord;

/**
 * The finalize Lambda: archives the execution's logs per processor to
 * `s3://<LOG_ARCHIVE_BUCKET>/executions/<node>/<workflowInstanceId>/processors/<processorId>/<taskId|requestId>.log`
 * and writes a cost report (`cost-report.json`, docs/cost.md) beside them. Which ECS tasks and Lambda invocations
 * are this execution's comes from its own history (children and map runs included); without an
 * executionArn, or when the history cannot be read, it falls back to one `logs.jsonl` holding every
 * event of the node log group in the run's time window. Reads the execution record from
 * EXECUTION_TABLE when set (start time, processor hashes and durations), then deletes the
 * execution's token secret. Never fails the workflow for a missing record or secret.
 */
export function createFinalizeHandler(options: FinalizeHandlerOptions = {}): (event: unknown) => Promise<FinalizeResult> {
  const env = options.env ?? process.env;
  const now = options.now ?? systemClock;
  return async (raw) => {
    const event = parseFinalizeEvent(raw);
    const bucket = required(env, "LOG_ARCHIVE_BUCKET");
    const logGroupName = required(env, "LOG_GROUP_NAME");
    const s3 = options.s3 ?? new S3Client({});
    const logs = options.logs ?? new CloudWatchLogsClient({});
    const record = env.EXECUTION_TABLE ? await readRecord(options.dynamodb ?? new DynamoDBClient({}), env.EXECUTION_TABLE, event.workflowInstanceId) : undefined;
    const end = now();
    const cap = options.maxLogEvents ?? 200_000;
    const prefix = `executions/${event.computeNodeId}/${event.workflowInstanceId}`;
    // No ServerSideEncryption here: the bucket default applies, the node's KMS key in secure and compliant modes.
    const put = (key: string, body: string, contentType: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: body, ContentType: contentType }));

    let runs: ExecutionRuns | undefined;
    let historyError: string | undefined;
    let usage: HistoryUsage | undefined;
    if (event.executionArn) {
      const reading = new HistoryUsage(end);
      try {
        runs = await executionRuns(options.sfn ?? new SFNClient({}), event.executionArn, { maxExecutions: options.maxExecutions, onHistory: (events, _arn, depth) => reading.add(events, depth === 0) });
        usage = reading;
      } catch (err) {
        // AccessDenied (a node not yet granted GetExecutionHistory) or anything else: the old archive, never a failed workflow.
        historyError = awsErrorName(err) ?? "Error";
      }
    }
    const startMs = runs?.startedAt?.getTime() ?? (record?.startedAt ? Date.parse(record.startedAt) : end.getTime() - 24 * 3600 * 1000);

    const archived: string[] = [];
    let logEvents = 0;
    const tally: LogTally = { events: 0, bytes: 0 };
    let result: Pick<FinalizeResult, "archive" | "logs" | "historyError" | "historyTruncated">;
    if (runs) {
      const byHash = new Map((record?.snapshot?.resolved ?? []).filter((p) => p.hash).map((p) => [p.hash!, p.id]));
      for (const run of runs.runs) {
        const processorId = safeSegment(run.hash ? (byHash.get(run.hash) ?? run.hash) : "unknown");
        const lines =
          run.kind === "ecs"
            ? await streamLines(logs, logGroupName, `processor/processor/${run.taskId}`, undefined, undefined, cap, tally)
            : await invocationLines(logs, logGroupName, run.requestId, startMs, end.getTime(), cap, tally);
        const key = `processors/${processorId}/${safeSegment(run.kind === "ecs" ? run.taskId : run.requestId)}.log`;
        await put(key, lines.join("\n") + (lines.length ? "\n" : ""), "text/plain; charset=utf-8");
        archived.push(`s3://${bucket}/${prefix}/${key}`);
        logEvents += lines.length;
      }
      result = { archive: "processors", ...(runs.truncated ? { historyTruncated: true } : {}) };
    } else {
      const lines: string[] = [];
      let token: string | undefined;
      do {
        const page: FilterLogEventsCommandOutput = await logs.send(new FilterLogEventsCommand({ logGroupName, startTime: startMs, endTime: end.getTime(), nextToken: token }));
        for (const e of page.events ?? []) if (lines.length < cap) lines.push(JSON.stringify({ timestamp: e.timestamp, stream: e.logStreamName, message: e.message }));
        token = lines.length < cap ? page.nextToken : undefined;
      } while (token);
      await put("logs.jsonl", lines.join("\n") + (lines.length ? "\n" : ""), "application/x-ndjson");
      archived.push(`s3://${bucket}/${prefix}/logs.jsonl`);
      logEvents = lines.length;
      result = { archive: "log-group", logs: `s3://${bucket}/${prefix}/logs.jsonl`, ...(historyError ? { historyError } : {}) };
    }

    const llm = env.LLM_USAGE_TABLE ? await readLlmTotals(options.dynamodb ?? new DynamoDBClient({}), env.LLM_USAGE_TABLE, event.workflowInstanceId) : undefined;
    const report = finalizeCostReport({
      computeNodeId: event.computeNodeId,
      workflowInstanceId: event.workflowInstanceId,
      status: event.status,
      region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "unknown",
      record,
      history: usage,
      historyTruncated: runs?.truncated,
      // The log-group fallback holds every stream of the window, other executions' too: not this execution's ingestion.
      logs: runs ? tally : undefined,
      ...(llm && "totals" in llm ? { llm: llm.totals } : {}),
      ...(llm && "missing" in llm ? { missing: [llm.missing] } : {}),
      end,
    });
    await put("cost-report.json", JSON.stringify(report, null, 2), "application/json");
    // Finalize is the execution's last Task, so its tokens are no longer needed: revoke them now rather
    // than when someone next asks for the status. Never fails the workflow over it ("kept": the tracker deletes it later).
    const tokenSecret = await deleteTokenSecret(options.secrets ?? new SecretsManagerClient({}), tokenSecretName(event.computeNodeId, event.workflowInstanceId)).catch(() => "kept" as const);
    // The ECS processors' copy of the tokens goes with the secret; one that cannot be deleted ("kept") is left to tracking and the bucket's expiry.
    const envFile = env.ENV_FILE_BUCKET
      ? await deleteEnvFile(s3, env.ENV_FILE_BUCKET, event).then(
          () => "deleted" as const,
          () => "kept" as const,
        )
      : undefined;
    return { ...result, archived, costReport: `s3://${bucket}/${prefix}/cost-report.json`, logEvents, tokenSecret, ...(envFile ? { envFile } : {}) };
  };
}

type LogsClient = Pick<CloudWatchLogsClient, "send">;

/** One line per event, `<ISO timestamp> <message>`, of one stream (an ECS task's: `processor/processor/<taskId>`). */
async function streamLines(logs: LogsClient, logGroupName: string, stream: string, startTime: number | undefined, endTime: number | undefined, cap: number, tally?: LogTally): Promise<string[]> {
  const lines: string[] = [];
  let token: string | undefined;
  do {
    let page: FilterLogEventsCommandOutput;
    try {
      page = await logs.send(new FilterLogEventsCommand({ logGroupName, logStreamNames: [stream], startTime, endTime, nextToken: token }));
    } catch (err) {
      // A task that never started (image pull, capacity) has no stream: its object stays empty.
      if (isNotFound(err)) return lines;
      throw err;
    }
    for (const e of page.events ?? []) {
      if (tally) {
        // What CloudWatch ingested (and billed): every event read, also those of the last page past the cap.
        tally.events++;
        tally.bytes += Buffer.byteLength(e.message ?? "");
      }
      if (lines.length < cap) lines.push(`${new Date(e.timestamp ?? 0).toISOString()} ${(e.message ?? "").replace(/\n$/, "")}`);
    }
    token = lines.length < cap ? page.nextToken : undefined;
  } while (token);
  return lines;
}

/**
 * A Lambda invocation's lines: the events naming its request id (START, END, REPORT and the
 * runtime's own lines) locate its stream and time span; an execution environment runs one
 * invocation at a time, so every event of that stream within the span is the invocation's.
 */
async function invocationLines(logs: LogsClient, logGroupName: string, requestId: string, startTime: number, endTime: number, cap: number, tally?: LogTally): Promise<string[]> {
  const spans = new Map<string, { from: number; to: number }>();
  let token: string | undefined;
  do {
    const page: FilterLogEventsCommandOutput = await logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: `"${requestId}"`, startTime, endTime, nextToken: token }));
    for (const e of page.events ?? []) {
      if (!e.logStreamName || e.timestamp === undefined) continue;
      const span = spans.get(e.logStreamName) ?? { from: e.timestamp, to: e.timestamp };
      spans.set(e.logStreamName, { from: Math.min(span.from, e.timestamp), to: Math.max(span.to, e.timestamp) });
    }
    token = page.nextToken;
  } while (token);
  const lines: string[] = [];
  for (const [stream, span] of spans) lines.push(...(await streamLines(logs, logGroupName, stream, span.from, span.to, cap - lines.length, tally)));
  return lines;
}

/** An S3 key segment from an id or hash: no "/", no "..". */
function safeSegment(value: string): string {
  return value.replace(/[/\\]/g, "_").replace(/\.\./g, "__") || "unknown";
}

const finalizeHandler = createFinalizeHandler();
const stopHandler = createStopHandler({ finalize: finalizeHandler });

/** The function's entry: the machine's Finalize payload, or the node's stop rule's EventBridge event (stopped.ts). */
export const handler = (event: unknown): Promise<FinalizeResult | StopResult> => (isStopEvent(event) ? stopHandler(event) : finalizeHandler(event));

export function parseFinalizeEvent(raw: unknown): FinalizeEvent {
  const e = (raw ?? {}) as Record<string, unknown>;
  for (const key of ["computeNodeId", "workflowInstanceId"]) if (typeof e[key] !== "string" || !(e[key] as string)) throw new FinalizeInputError(`finalize payload: "${key}" must be a non-empty string`);
  if (e.action !== "finalize") throw new FinalizeInputError(`finalize payload: action must be "finalize", got ${JSON.stringify(e.action)}`);
  if (e.status !== "SUCCEEDED" && e.status !== "FAILED") throw new FinalizeInputError(`finalize payload: status must be SUCCEEDED or FAILED`);
  // Ids become S3 key segments: refuse anything that could climb or split them.
  for (const key of ["computeNodeId", "workflowInstanceId"] as const) if (/[/\\]|\.\./.test(e[key] as string)) throw new FinalizeInputError(`finalize payload: "${key}" must not contain "/" or ".."`);
  if (e.executionArn !== undefined && (typeof e.executionArn !== "string" || !/^arn:[\w-]+:states:[^:]*:\d*:execution:/.test(e.executionArn)))
    throw new FinalizeInputError(`finalize payload: "executionArn" must be a Step Functions execution ARN`);
  return {
    action: "finalize",
    computeNodeId: e.computeNodeId as string,
    workflowInstanceId: e.workflowInstanceId as string,
    status: e.status,
    error: e.error,
    ...(e.executionArn ? { executionArn: e.executionArn as string } : {}),
  };
}

async function readLlmTotals(dynamodb: Pick<DynamoDBClient, "send">, tableName: string, executionId: string): Promise<{ totals: LlmTotals } | { missing: MissingCost }> {
  try {
    return { totals: await readExecutionLlmTotals({ dynamodb, tableName }, executionId) };
  } catch (err) {
    return { missing: { item: "LLM (Bedrock) usage", category: "llm", reason: `the governor's usage table ${tableName} could not be read (${awsErrorName(err) ?? "Error"})` } };
  }
}

async function readRecord(dynamodb: Pick<DynamoDBClient, "send">, table: string, executionId: string): Promise<RecordLike | undefined> {
  try {
    const out = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { executionId: { S: executionId } } }));
    const bytes = out.Item?.record?.B;
    return bytes ? (JSON.parse(gunzipSync(bytes).toString("utf8")) as RecordLike) : undefined;
  } catch {
    return undefined;
  }
}

function required(env: NodeJS.ProcessEnv, key: string): string {
  const value = env[key];
  if (!value) throw new FinalizeConfigError(`the finalize function needs the ${key} environment variable`);
  return value;
}

export type { FinalizeEvent, FinalizeResult, StopResult };
export { createStopHandler, isStopEvent, parseStopEvent } from "./stopped";
export { finalizeCostReport, finalizeUsage } from "./cost";
export type { CostRecord, FinalizeCostInput, LogTally } from "./cost";
export { HistoryUsage } from "./history-usage";
