import { ECSClient } from "@aws-sdk/client-ecs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { RateLimits, createRateLimits } from "./rate-limit";

type Sender = { send: (command: never, options?: never) => Promise<unknown> };

/** The AWS clients the runtime uses, narrowed to `send` so tests can pass fakes. */
export interface AwsClients {
  ecs: Pick<ECSClient, "send">;
  lambda: Pick<LambdaClient, "send">;
  sfn: Pick<SFNClient, "send">;
  secrets: Pick<SecretsManagerClient, "send">;
  dynamodb: Pick<DynamoDBClient, "send">;
  ec2: Pick<EC2Client, "send">;
  /** Deletes executions' environment files once they end. @default absent in fakes: tracking then leaves them to finalize and the bucket's expiry */
  s3?: Pick<S3Client, "send">;
  /** Reads processors' logs from the node's log group (readProcessorLogs). @default absent in fakes: reading logs then fails with a clear error */
  logs?: Pick<CloudWatchLogsClient, "send">;
  /** Shared per set of clients, so concurrent registrations respect one budget per operation. */
  limits: RateLimits;
  /** Every AWS call that created, updated, deleted, tagged or started something, in order. */
  mutations: MutationLog;
  region: string;
  /**
   * Whether the endpoint runs executions of a published state machine version. Deploys then publish
   * a version and executions start it, so a run never gets the definition from before an update.
   * @default true; false against a local endpoint (moto cannot start a version)
   */
  stateMachineVersions?: boolean;
}

export interface MutationLog {
  /** `service:CommandName` of each mutating call that was sent (including failed ones). */
  calls: string[];
}

export interface CreateAwsClientsOptions {
  region: string;
  /** @default process.env.AWS_ENDPOINT_URL (unset: the real AWS endpoints) */
  endpoint?: string;
  /** Attempts per call, adaptive retry (client-side rate limiting on throttles). @default 5; 1 against a local endpoint */
  maxAttempts?: number;
  /** @default the standard credential chain; dummy credentials against a local endpoint when none are set */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  env?: NodeJS.ProcessEnv;
  /** @default createRateLimits() with AWS's budgets */
  limits?: RateLimits;
  /** @default true, false against a local endpoint */
  stateMachineVersions?: boolean;
}

// Mutating commands by name prefix: what `mutatingCalls` counts and what idempotency tests assert is zero.
const MUTATING = /^(Create|Register|Update|Put|Delete|Deregister|Start|Stop|Tag|Untag|Publish|Add|Remove|Run|Invoke|Send|Restore|Terminate|Modify|Attach|Detach)/;

export function isMutatingCommand(commandName: string): boolean {
  return MUTATING.test(commandName);
}

/** Builds every AWS client of the runtime: the only place clients are constructed. */
export function createAwsClients(options: CreateAwsClientsOptions): AwsClients {
  const env = options.env ?? process.env;
  const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL || undefined);
  const local = !!endpoint && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(endpoint);
  const credentials = options.credentials ?? (local && !env.AWS_ACCESS_KEY_ID ? { accessKeyId: "test", secretAccessKey: "test" } : undefined);
  const config = {
    region: options.region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    retryMode: "adaptive",
    maxAttempts: options.maxAttempts ?? (local ? 1 : 5),
  };
  const mutations: MutationLog = { calls: [] };
  const clients = {
    ecs: new ECSClient(config),
    lambda: new LambdaClient(config),
    sfn: new SFNClient(config),
    secrets: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
    ec2: new EC2Client(config),
    // Path-style against a local endpoint (moto), whose buckets are not DNS names.
    s3: new S3Client({ ...config, forcePathStyle: local }),
    logs: new CloudWatchLogsClient(config),
  };
  for (const [service, client] of Object.entries(clients)) countMutations(client, service, mutations);
  return { ...clients, limits: options.limits ?? createRateLimits(), mutations, region: options.region, stateMachineVersions: options.stateMachineVersions ?? !local };
}

/** Records mutating commands sent through a client (once per `send`, not per retry attempt). */
export function countMutations(client: { middlewareStack: { add: (...args: never[]) => void } }, service: string, log: MutationLog): void {
  const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const name = context.commandName ?? "";
    if (isMutatingCommand(name)) log.calls.push(`${service}:${name.replace(/Command$/, "")}`);
    return next(args);
  };
  (client.middlewareStack.add as (m: unknown, o: unknown) => void)(middleware, { step: "initialize", name: "computeNodeMutationCounter" });
}

export type { Sender };
