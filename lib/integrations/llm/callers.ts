import { gunzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { ANTHROPIC_API_KEY_ENV, ANTHROPIC_BASE_URL_ENV, ANTHROPIC_CUSTOM_HEADERS_ENV, EXECUTION_HEADER, LlmAccess, LlmGrant, PROCESSOR_HEADER, USER_HEADER } from "./contract";
import { GovernorError } from "./errors";

/** Who is calling, and which execution (and user) a call is charged to. */
export interface CallerContext {
  executionId: string;
  processorId?: string;
  userId?: string;
}

/** What a resolver sees of a request: its headers (lower-case names) and the identity the transport verified. */
export interface CallerRequest {
  headers: Record<string, string | undefined>;
  /** The SigV4-verified caller (Function URL `requestContext.authorizer.iam.userArn`); absent on other transports. */
  iamCallerArn?: string;
}

export interface CallerResolver {
  /** Checks the caller and names the execution to charge; throws GovernorError (401/403/400). */
  resolve(request: CallerRequest): Promise<CallerContext>;
  /** Like resolve, but a request that names no execution is only authorized and answers undefined (`GET /v1/budget`). */
  resolveIfNamed(request: CallerRequest): Promise<CallerContext | undefined>;
  /** Checks the caller only (model lists). */
  authorize(request: CallerRequest): Promise<void>;
}

const EXECUTION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

function headerExecution(request: CallerRequest): string {
  const id = request.headers[EXECUTION_HEADER]?.trim();
  if (!id)
    throw new GovernorError(
      "execution_required",
      `name the execution to charge with the ${EXECUTION_HEADER} header (Anthropic SDKs: ANTHROPIC_CUSTOM_HEADERS="${EXECUTION_HEADER}: <workflow instance id>", or defaultHeaders)`,
    );
  if (!EXECUTION_ID.test(id)) throw new GovernorError("invalid_request", `${EXECUTION_HEADER} must be 1–128 characters of letters, digits, '_', '.', ':' or '-'`);
  return id;
}

function optionalHeader(request: CallerRequest, name: string): string | undefined {
  const value = request.headers[name]?.trim();
  if (!value) return undefined;
  if (!EXECUTION_ID.test(value)) throw new GovernorError("invalid_request", `${name} must be 1–128 characters of letters, digits, '_', '.', ':' or '-'`);
  return value;
}

/** `llm serve` on a loopback port: the headers name the execution, processor and user, and are trusted. */
export function trustedHeaderCallers(): CallerResolver {
  return {
    async resolve(request) {
      return { executionId: headerExecution(request), processorId: optionalHeader(request, PROCESSOR_HEADER), userId: optionalHeader(request, USER_HEADER) };
    },
    async resolveIfNamed(request) {
      return request.headers[EXECUTION_HEADER]?.trim() ? this.resolve(request) : undefined;
    },
    async authorize() {},
  };
}

/**
 * The local runner's grants: each processor run gets its own random key (as `ANTHROPIC_API_KEY`,
 * which the SDKs send) mapped to its execution, processor and user, and revoked when it finishes. A
 * request with no valid key is refused, unless `fallback` (trusted headers for `llm serve`) takes it.
 */
export class LocalGrants implements CallerResolver, LlmAccess {
  private readonly keys = new Map<string, CallerContext>();

  constructor(private readonly baseUrl: () => string, private readonly fallback?: CallerResolver) {}

  grant(scope: { executionId: string; processorId: string; userId?: string }): LlmGrant {
    const key = `cn-llm-${randomBytes(24).toString("base64url")}`;
    this.keys.set(key, { executionId: scope.executionId, processorId: scope.processorId, ...(scope.userId ? { userId: scope.userId } : {}) });
    return {
      environment: {
        [ANTHROPIC_BASE_URL_ENV]: this.baseUrl(),
        [ANTHROPIC_API_KEY_ENV]: key,
        // What a processor sends on AWS (docs/llm.md); here the key alone decides, the headers only match it.
        [ANTHROPIC_CUSTOM_HEADERS_ENV]: `${EXECUTION_HEADER}: ${scope.executionId}\n${PROCESSOR_HEADER}: ${scope.processorId}`,
      },
      secrets: [key],
      revoke: () => void this.keys.delete(key),
    };
  }

  async resolve(request: CallerRequest): Promise<CallerContext> {
    const granted = this.lookup(request);
    if (granted) return granted;
    if (this.fallback) return this.fallback.resolve(request);
    throw new GovernorError("caller_not_allowed", "no valid key: the local runner gives each processor its own ANTHROPIC_API_KEY while it runs", { status: 401, errorType: "authentication_error" });
  }

  async resolveIfNamed(request: CallerRequest): Promise<CallerContext | undefined> {
    const granted = this.lookup(request);
    if (granted) return granted;
    if (this.fallback) return this.fallback.resolveIfNamed(request);
    return this.resolve(request);
  }

  async authorize(request: CallerRequest): Promise<void> {
    if (this.lookup(request)) return;
    if (this.fallback) return this.fallback.authorize(request);
    await this.resolve(request);
  }

  private lookup(request: CallerRequest): CallerContext | undefined {
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim();
    const key = request.headers["x-api-key"]?.trim() || bearer;
    return key ? this.keys.get(key) : undefined;
  }
}

export interface AwsCallersOptions {
  computeNodeId: string;
  /** Names of the node's processor roles (ECS task role, Lambda processor role): the only callers allowed. */
  processorRoleNames: string[];
  /** The node's executions table (records hold the execution ARN and the invocation's user). */
  executionTable: string;
  dynamodb: Pick<DynamoDBClient, "send">;
  sfn: Pick<SFNClient, "send">;
  /** Epoch milliseconds. @default Date.now */
  now?: () => number;
  /** How long a confirmed running execution is trusted without asking Step Functions again. @default 10000 */
  confirmMs?: number;
}

/**
 * The governor Lambda's check. A Function URL request carries the SigV4-verified caller: it must be
 * a session of one of the node's processor roles. The `x-execution-id` it names must be an execution
 * of this node (its record in the executions table) that Step Functions reports RUNNING; the record's
 * invocation names the user. A direct `InvokeWithResponseStream` carries no verified identity: IAM
 * (only the processor roles may invoke the governor) is the check there, and the execution is checked the same way.
 */
export function awsCallers(options: AwsCallersOptions): CallerResolver {
  const now = options.now ?? Date.now;
  const confirmMs = options.confirmMs ?? 10_000;
  const confirmed = new Map<string, { until: number; userId?: string }>();
  const roles = new Set(options.processorRoleNames);

  const checkCaller = (request: CallerRequest) => {
    if (request.iamCallerArn === undefined) return;
    // arn:aws:sts::<account>:assumed-role/<role name>/<session>
    const match = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\/.+$/.exec(request.iamCallerArn);
    if (!match || !roles.has(match[1]))
      throw new GovernorError("caller_not_allowed", `only the processor roles of node "${options.computeNodeId}" may call its LLM governor`);
  };

  const running = async (executionId: string): Promise<{ userId?: string }> => {
    const cached = confirmed.get(executionId);
    if (cached && cached.until > now()) return cached;
    const item = (await options.dynamodb.send(new GetItemCommand({ TableName: options.executionTable, Key: { executionId: { S: executionId } }, ConsistentRead: true }))).Item;
    const record = item?.record?.B ? (JSON.parse(gunzipSync(item.record.B).toString("utf8")) as RecordLike) : undefined;
    if (!record || record.computeNodeId !== options.computeNodeId || !record.executionArn)
      throw new GovernorError("execution_not_running", `"${executionId}" is not an execution of node "${options.computeNodeId}"`);
    const described = await options.sfn.send(new DescribeExecutionCommand({ executionArn: record.executionArn }));
    if (described.status !== "RUNNING") throw new GovernorError("execution_not_running", `execution "${executionId}" of node "${options.computeNodeId}" is ${described.status ?? "not running"}, not RUNNING`);
    const userId = userOfInvocation(record.snapshot?.invocation);
    const entry = { until: now() + confirmMs, ...(userId ? { userId } : {}) };
    confirmed.set(executionId, entry);
    return entry;
  };

  return {
    async resolve(request) {
      checkCaller(request);
      const executionId = headerExecution(request);
      const { userId } = await running(executionId);
      return { executionId, processorId: optionalHeader(request, PROCESSOR_HEADER), ...(userId ? { userId } : {}) };
    },
    async resolveIfNamed(request) {
      checkCaller(request);
      return request.headers[EXECUTION_HEADER]?.trim() ? this.resolve(request) : undefined;
    },
    async authorize(request) {
      checkCaller(request);
    },
  };
}

interface RecordLike {
  computeNodeId?: string;
  executionArn?: string;
  snapshot?: { invocation?: unknown };
}

/** The user an invocation names (its top-level `userId`), if any. */
export function userOfInvocation(invocation: unknown): string | undefined {
  const user = (invocation as { userId?: unknown } | undefined)?.userId;
  return typeof user === "string" && user.length > 0 ? user : undefined;
}
