import { gunzipSync } from "node:zlib";
import { CloudWatchLogsClient, FilterLogEventsCommand, FilterLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DeleteSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { tokenSecretName } from "./resolve-token";

/** Nominal on-demand prices (USD, us-east-1): the report estimates, it does not invoice. */
export const PRICES = { fargateVcpuHour: 0.04048, fargateGbHour: 0.004445, fargateMinimumSeconds: 60, lambdaGbSecond: 0.0000166667, lambdaPerRequest: 0.0000002 } as const;

export interface FinalizeEvent {
  action: "finalize";
  computeNodeId: string;
  workflowInstanceId: string;
  status: "SUCCEEDED" | "FAILED";
  error?: unknown;
}

export interface FinalizeResult {
  logs: string;
  costReport: string;
  logEvents: number;
  /** What became of the execution's token secret: `deleted`, `absent` (already gone) or `kept` (no permission; the tracker deletes it later). */
  tokenSecret: "deleted" | "absent" | "kept";
}

export interface FinalizeHandlerOptions {
  s3?: Pick<S3Client, "send">;
  logs?: Pick<CloudWatchLogsClient, "send">;
  dynamodb?: Pick<DynamoDBClient, "send">;
  secrets?: Pick<SecretsManagerClient, "send">;
  /** LOG_GROUP_NAME, LOG_ARCHIVE_BUCKET, EXECUTION_TABLE (optional). @default process.env */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Stop archiving after this many log events, so a chatty run cannot exhaust the function. @default 200000 */
  maxLogEvents?: number;
}

interface RecordLike {
  startedAt?: string;
  snapshot?: { resolved?: { id: string; computeType: string; cpu: number; memory: number }[] };
  processors?: Record<string, { status: string; startedAt?: string; finishedAt?: string; attempts?: number }>;
}

/**
 * The finalize Lambda: archives the node log group's events since the execution started to
 * `s3://<LOG_ARCHIVE_BUCKET>/executions/<node>/<workflowInstanceId>/logs.jsonl` and writes a cost
 * report (`cost-report.json`) beside it. Reads the execution record from EXECUTION_TABLE when set
 * for the start time and per-processor durations, then deletes the execution's token secret.
 * Never fails the workflow for a missing record or secret.
 */
export function createFinalizeHandler(options: FinalizeHandlerOptions = {}): (event: unknown) => Promise<FinalizeResult> {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  return async (raw) => {
    const event = parseFinalizeEvent(raw);
    const bucket = required(env, "LOG_ARCHIVE_BUCKET");
    const logGroupName = required(env, "LOG_GROUP_NAME");
    const s3 = options.s3 ?? new S3Client({});
    const logs = options.logs ?? new CloudWatchLogsClient({});
    const record = env.EXECUTION_TABLE ? await readRecord(options.dynamodb ?? new DynamoDBClient({}), env.EXECUTION_TABLE, event.workflowInstanceId) : undefined;
    const end = now();
    const start = record?.startedAt ? Date.parse(record.startedAt) : end.getTime() - 24 * 3600 * 1000;

    const lines: string[] = [];
    let token: string | undefined;
    const cap = options.maxLogEvents ?? 200_000;
    do {
      const page: FilterLogEventsCommandOutput = await logs.send(new FilterLogEventsCommand({ logGroupName, startTime: start, endTime: end.getTime(), nextToken: token }));
      for (const e of page.events ?? []) if (lines.length < cap) lines.push(JSON.stringify({ timestamp: e.timestamp, stream: e.logStreamName, message: e.message }));
      token = lines.length < cap ? page.nextToken : undefined;
    } while (token);

    const prefix = `executions/${event.computeNodeId}/${event.workflowInstanceId}`;
    // No ServerSideEncryption here: the bucket default applies, the node's KMS key in secure and compliant modes.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/logs.jsonl`, Body: lines.join("\n") + (lines.length ? "\n" : ""), ContentType: "application/x-ndjson" }));
    const report = costReport(event, record, end);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/cost-report.json`, Body: JSON.stringify(report, null, 2), ContentType: "application/json" }));
    const tokenSecret = await deleteTokenSecret(options.secrets ?? new SecretsManagerClient({}), tokenSecretName(event.computeNodeId, event.workflowInstanceId));
    return { logs: `s3://${bucket}/${prefix}/logs.jsonl`, costReport: `s3://${bucket}/${prefix}/cost-report.json`, logEvents: lines.length, tokenSecret };
  };
}

export const handler = createFinalizeHandler();

export function costReport(event: FinalizeEvent, record: RecordLike | undefined, end: Date) {
  const lines = (record?.snapshot?.resolved ?? []).map((p) => {
    const run = record?.processors?.[p.id];
    const seconds = run?.startedAt ? Math.max(0, ((run.finishedAt ? Date.parse(run.finishedAt) : end.getTime()) - Date.parse(run.startedAt)) / 1000) : 0;
    const gb = p.memory / 1024;
    const usd =
      seconds === 0
        ? 0
        : p.computeType === "lambda"
          ? seconds * gb * PRICES.lambdaGbSecond + (run?.attempts ?? 1) * PRICES.lambdaPerRequest
          : (Math.max(seconds, PRICES.fargateMinimumSeconds) / 3600) * (p.cpu * PRICES.fargateVcpuHour + gb * PRICES.fargateGbHour);
    return { processorId: p.id, computeType: p.computeType, cpu: p.cpu, memory: p.memory, status: run?.status ?? "UNKNOWN", durationSeconds: Math.round(seconds * 1000) / 1000, estimatedUsd: Math.round(usd * 1e6) / 1e6 };
  });
  return {
    computeNodeId: event.computeNodeId,
    workflowInstanceId: event.workflowInstanceId,
    status: event.status,
    generatedAt: end.toISOString(),
    currency: "USD",
    nominal: true,
    note: record ? "list prices applied to recorded processor durations" : "no execution record available: processor lines are empty",
    processors: lines,
    totalEstimatedUsd: Math.round(lines.reduce((s, l) => s + l.estimatedUsd, 0) * 1e6) / 1e6,
  };
}

export function parseFinalizeEvent(raw: unknown): FinalizeEvent {
  const e = (raw ?? {}) as Record<string, unknown>;
  for (const key of ["computeNodeId", "workflowInstanceId"]) if (typeof e[key] !== "string" || !(e[key] as string)) throw namedError("FinalizeInputError", `finalize payload: "${key}" must be a non-empty string`);
  if (e.action !== "finalize") throw namedError("FinalizeInputError", `finalize payload: action must be "finalize", got ${JSON.stringify(e.action)}`);
  if (e.status !== "SUCCEEDED" && e.status !== "FAILED") throw namedError("FinalizeInputError", `finalize payload: status must be SUCCEEDED or FAILED`);
  // Ids become S3 key segments: refuse anything that could climb or split them.
  for (const key of ["computeNodeId", "workflowInstanceId"] as const) if (/[/\\]|\.\./.test(e[key] as string)) throw namedError("FinalizeInputError", `finalize payload: "${key}" must not contain "/" or ".."`);
  return { action: "finalize", computeNodeId: e.computeNodeId as string, workflowInstanceId: e.workflowInstanceId as string, status: e.status, error: e.error };
}

// Finalize is the execution's last Task, so its tokens are no longer needed: revoke them now rather
// than when someone next asks for the status. Never fails the workflow over it.
async function deleteTokenSecret(secrets: Pick<SecretsManagerClient, "send">, secretId: string): Promise<FinalizeResult["tokenSecret"]> {
  try {
    await secrets.send(new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }));
    return "deleted";
  } catch (err) {
    return (err as { name?: string }).name === "ResourceNotFoundException" ? "absent" : "kept";
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
  if (!value) throw namedError("FinalizeConfigError", `the finalize function needs the ${key} environment variable`);
  return value;
}

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}
