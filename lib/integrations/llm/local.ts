import { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { ExecutionLlmTotals, LlmAccess, LlmGrant, LlmSettings, LlmUsageRecord } from "./contract";
import { FileUsageStore } from "./file-store";
import { LlmConfig, resolveLlmSettings } from "./settings";
import type { BedrockInvoker } from "./bedrock";
import type { GovernorLogEntry } from "./governor";
import type { UsageQuery, UsageStore } from "./store";

export { anthropicIdOf, defaultAllowedModels, llmSettingsIssues, resolveLlmSettings } from "./settings";
export type { LlmConfig, LlmPriceOverride, ResolveLlmSettingsOptions } from "./settings";
export type { GovernorLogEntry } from "./governor";
export type { UsageQuery, UsageStore } from "./store";

/** Where usage goes: a directory (file store, the default) or a DynamoDB table. */
export type UsageLocation = { dir: string } | { table: string; region: string };

export interface StartLocalGovernorOptions {
  /** The node's LLM configuration (`llm` of the node config, or `llm serve --config`), checked for shape. */
  config: LlmConfig;
  /** @default "local" */
  computeNodeId?: string;
  /** Prices and the Bedrock client's region. @default AWS_REGION, else us-east-1 */
  region?: string;
  usage: UsageLocation;
  /** @default 0 (a free port) */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /**
   * Trust `x-execution-id` / `x-processor-id` / `x-user-id` on requests without a granted key
   * (`llm serve`). Off for the runner's in-process governor: only its processors' keys are accepted.
   * @default false
   */
  trustHeaders?: boolean;
  /** AWS_REGION, and the SDK's endpoint variables. @default process.env */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  log?: (entry: GovernorLogEntry) => void;
  /** @default Bedrock through the AWS SDK (AWS_ENDPOINT_URL_BEDROCK_RUNTIME is honoured) */
  bedrock?: BedrockInvoker;
}

/** A running local governor: processors reach it at `url` with the keys `grant` hands out. */
export interface LocalGovernor extends LlmAccess {
  url: string;
  settings: LlmSettings;
  store: UsageStore;
  close(): Promise<void>;
}

/**
 * Starts the governor as an HTTP server on a loopback port (the embedded default: `llm serve`, and
 * `run --llm-config`, which gives each processor `ANTHROPIC_BASE_URL` and its own key). Same
 * governor as the Lambda's, with usage in a file store by default.
 */
export async function startLocalGovernor(options: StartLocalGovernorOptions): Promise<LocalGovernor> {
  const env = options.env ?? process.env;
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  const settings = resolveLlmSettings(options.config, { computeNodeId: options.computeNodeId ?? "local", region });
  // Loaded here: the Bedrock and DynamoDB SDKs are only needed once a governor runs.
  const [{ createGovernor }, { createGovernorServer }, { LocalGrants, trustedHeaderCallers }, { bedrockClient, bedrockInvoker }] = await Promise.all([
    import("./governor"),
    import("./http"),
    import("./callers"),
    import("./bedrock"),
  ]);
  const store = await openUsageStore(options.usage);
  let url = "";
  const grants = new LocalGrants(() => url, options.trustHeaders ? trustedHeaderCallers() : undefined);
  const governor = createGovernor({
    settings,
    store,
    bedrock: options.bedrock ?? bedrockInvoker(bedrockClient({ region })),
    callers: grants,
    now: options.now,
    log: options.log,
  });
  const server = createGovernorServer(governor);
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => ok());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;
  return {
    url,
    settings,
    store,
    grant: (scope): LlmGrant => grants.grant(scope),
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

/** The usage store at a location (`llm serve`, `llm usage`). */
export async function openUsageStore(location: UsageLocation): Promise<UsageStore> {
  if ("dir" in location) return new FileUsageStore({ dir: resolve(location.dir) });
  const [{ DynamoDBClient }, { DynamoUsageStore }] = await Promise.all([import("@aws-sdk/client-dynamodb"), import("./dynamo-store")]);
  return new DynamoUsageStore({ dynamodb: new DynamoDBClient({ region: location.region }), tableName: location.table });
}

/** A local run's LLM totals (the file store under `dir`), for the local cost report's LLM line. */
export function readLocalExecutionLlmTotals(dir: string, executionId: string): Promise<ExecutionLlmTotals> {
  return new FileUsageStore({ dir: resolve(dir) }).executionTotals(executionId);
}

/** Usage items of a store, oldest first. */
export async function readUsage(location: UsageLocation, query: UsageQuery): Promise<LlmUsageRecord[]> {
  return (await openUsageStore(location)).usage(query);
}
