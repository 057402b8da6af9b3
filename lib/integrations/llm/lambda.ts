import { Writable } from "node:stream";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SFNClient } from "@aws-sdk/client-sfn";
import { ExecutionLlmTotals, GOVERNOR_ENV, LlmInvokeEvent, LlmSettings } from "./contract";
import { BedrockInvoker, bedrockClient, bedrockInvoker } from "./bedrock";
import { awsCallers } from "./callers";
import { DynamoUsageStore, executionTotalsOf } from "./dynamo-store";
import { Governor, GovernorLogEntry, GovernorRequest, GovernorResponse, createGovernor } from "./governor";
import { executionCounterKey } from "./store";

/** A Function URL request (payload format 2.0), as Lambda hands it to a streaming handler. */
export interface FunctionUrlEvent {
  rawPath?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string }; authorizer?: { iam?: { userArn?: string } } };
}

/** The part of the Lambda Node.js runtime's `awslambda` global a streaming HTTP handler uses. */
export interface StreamingRuntime {
  /** Writes the Function URL prelude (status and headers) and returns the stream the body goes to. */
  httpResponseStream(stream: Writable, prelude: { statusCode: number; headers: Record<string, string> }): Writable;
}

export interface GovernorLambdaOptions {
  /** LLM_SETTINGS, USAGE_TABLE, EXECUTION_TABLE, PROCESSOR_ROLE_NAMES. @default process.env */
  env?: NodeJS.ProcessEnv;
  dynamodb?: Pick<DynamoDBClient, "send">;
  sfn?: Pick<SFNClient, "send">;
  bedrock?: BedrockInvoker;
  runtime?: StreamingRuntime;
  now?: () => Date;
  /** Metadata only (ids, counts, outcomes). @default one JSON line per entry on stdout (CloudWatch) */
  log?: (entry: GovernorLogEntry) => void;
}

/**
 * The governor Lambda's handler (wrapped in `awslambda.streamifyResponse` for `handler`): a Function
 * URL request (IAM-authenticated, the caller's ARN in its request context) or a direct
 * `InvokeWithResponseStream` with an {@link LlmInvokeEvent}; the answer streams back, so
 * `stream: true` calls reach the processor as server-sent events while Bedrock generates them.
 */
export function createGovernorLambda(options: GovernorLambdaOptions = {}): (event: unknown, responseStream: Writable) => Promise<void> {
  let governor: Governor | undefined;
  const build = (): Governor => {
    const env = options.env ?? process.env;
    const settings = readSettings(env);
    const dynamodb = options.dynamodb ?? new DynamoDBClient({});
    return createGovernor({
      settings,
      store: new DynamoUsageStore({ dynamodb, tableName: required(env, GOVERNOR_ENV.usageTable) }),
      bedrock: options.bedrock ?? bedrockInvoker(bedrockClient({ region: env.AWS_REGION ?? settings.region })),
      callers: awsCallers({
        computeNodeId: settings.computeNodeId,
        processorRoleNames: required(env, GOVERNOR_ENV.processorRoles).split(",").filter(Boolean),
        executionTable: required(env, GOVERNOR_ENV.executionTable),
        dynamodb,
        sfn: options.sfn ?? new SFNClient({}),
        now: options.now ? () => options.now!().getTime() : undefined,
      }),
      now: options.now,
      log: options.log ?? ((entry) => console.log(JSON.stringify(entry))),
    });
  };
  const runtime = options.runtime ?? lambdaRuntime();
  return async (event, responseStream) => {
    const gone = new AbortController();
    responseStream.on("close", () => gone.abort(new Error("client disconnected")));
    let response: GovernorResponse;
    try {
      governor ??= build();
      response = await governor.handle(toRequest(event, gone.signal));
    } catch (err) {
      // A misconfigured function fails closed, naming what is missing, never the request.
      response = { kind: "json", status: 500, headers: { "content-type": "application/json" }, body: { type: "error", error: { type: "api_error", code: "bedrock_error", details: { error_code: "bedrock_error" }, message: `bedrock_error: ${(err as Error).message}` } } };
    }
    const out = runtime.httpResponseStream(responseStream, { statusCode: response.status, headers: response.headers });
    if (response.kind === "json") {
      await end(out, JSON.stringify(response.body));
      return;
    }
    for await (const chunk of response.events) {
      if (out.destroyed) break;
      if (!out.write(chunk)) await new Promise<void>((ok) => { out.once("drain", ok); out.once("close", ok); });
    }
    await end(out);
  };
}

/** The LLM totals of one execution on AWS (its budget counter in the node's usage table): finalize's cost report reads its LLM line here. */
export async function readExecutionLlmTotals(options: { dynamodb: Pick<DynamoDBClient, "send">; tableName: string }, executionId: string): Promise<ExecutionLlmTotals> {
  const out = await options.dynamodb.send(new GetItemCommand({ TableName: options.tableName, Key: { pk: { S: executionCounterKey(executionId) }, sk: { S: "total" } }, ConsistentRead: true }));
  return executionTotalsOf(executionId, out.Item);
}

function toRequest(event: unknown, signal: AbortSignal): GovernorRequest {
  const e = (event ?? {}) as FunctionUrlEvent & Partial<LlmInvokeEvent>;
  const lower = (h: Record<string, string | undefined> | undefined) => Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  if (e.requestContext?.http) {
    const body = e.body === undefined ? undefined : e.isBase64Encoded ? Buffer.from(e.body, "base64").toString("utf8") : e.body;
    return { method: e.requestContext.http.method ?? "GET", path: e.rawPath ?? "/", headers: lower(e.headers), body, iamCallerArn: e.requestContext.authorizer?.iam?.userArn ?? "", signal };
  }
  // A direct invocation: no verified identity travels with it (IAM allowed the invoke), and none claimed in it is believed.
  return { method: typeof e.method === "string" ? e.method : "GET", path: typeof e.path === "string" ? e.path : "/", headers: lower(e.headers), body: typeof e.body === "string" ? e.body : undefined, signal };
}

function readSettings(env: NodeJS.ProcessEnv): LlmSettings {
  const raw = required(env, GOVERNOR_ENV.settings);
  let settings: LlmSettings;
  try {
    settings = JSON.parse(raw) as LlmSettings;
  } catch {
    throw new Error(`${GOVERNOR_ENV.settings} is not JSON; redeploy the node`);
  }
  if (!settings || !Array.isArray(settings.models) || !settings.budgets || !settings.computeNodeId) throw new Error(`${GOVERNOR_ENV.settings} lacks models, budgets or computeNodeId; redeploy the node`);
  return settings;
}

function required(env: NodeJS.ProcessEnv, key: string): string {
  const value = env[key];
  if (!value) throw new Error(`the LLM governor needs the ${key} environment variable; redeploy the node`);
  return value;
}

function end(stream: Writable, chunk?: string): Promise<void> {
  return new Promise((ok) => {
    stream.once("finish", () => ok());
    stream.once("close", () => ok());
    if (chunk !== undefined) stream.end(chunk);
    else stream.end();
  });
}

interface AwsLambdaGlobal {
  streamifyResponse(handler: (event: unknown, responseStream: Writable, context: unknown) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: Writable, prelude: object): Writable };
}

/** The runtime's streaming API; outside Lambda absent (the SDK itself may define an `awslambda` object without it). */
function lambdaGlobal(): AwsLambdaGlobal | undefined {
  const runtime = (globalThis as { awslambda?: Partial<AwsLambdaGlobal> }).awslambda;
  return typeof runtime?.streamifyResponse === "function" && runtime.HttpResponseStream ? (runtime as AwsLambdaGlobal) : undefined;
}

function lambdaRuntime(): StreamingRuntime {
  return {
    httpResponseStream(stream, prelude) {
      const runtime = lambdaGlobal();
      if (!runtime) throw new Error("awslambda.HttpResponseStream is only available in the Lambda Node.js runtime; pass options.runtime");
      return runtime.HttpResponseStream.from(stream, prelude);
    },
  };
}

const streaming = createGovernorLambda();

/** The Lambda entry (`lib/integrations/llm/lambda.handler`), a response-streaming handler. Outside Lambda it is the plain function, for tests. */
export const handler = lambdaGlobal()?.streamifyResponse((event, stream) => streaming(event, stream)) ?? streaming;
