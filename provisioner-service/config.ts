import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { UnavailableError, ValidationError } from "../lib/errors";
import { AutomationStackEngine } from "../lib/provision/automation-engine";
import { LocalNodeEngine } from "../lib/provision/local-node-engine";
import { discoverEngine } from "../lib/provision/engine-discovery";
import { AwsWorkflowRuntime } from "../lib/provision/aws-runtime";
import type { LocalWorkflowRuntimeOptions } from "../lib/provision/local-runtime";
import { defaultNodeProgram, NodeProgramSource } from "../lib/provision/node-program";
import { NodeSpec, StackEngine } from "../lib/provision/stack-engine";
import { ProvisionStore } from "../lib/provision/store";
import { WorkflowRuntime } from "../lib/provision/workflow-runtime";
import { AuthConfig } from "./auth";
import { Logger } from "./logger";
import { buildService, localPassphrase, Service } from "./server";
import { CHECKOUT_ROOT_ENV } from "../lib/node/checkout-root";
import { packageRoot } from "../lib/package-root";

export interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  /** Laptop mode: local file backend for stack state, local runner for executions. */
  local: boolean;
  tokenFile?: string;
  insecureNoAuth: boolean;
  maxConcurrentOperations: number;
  /** Directory with bin/pulumi. @default PULUMI_CLI_ROOT, else PATH */
  pulumiRoot?: string;
  /** DynamoDB table for operations, nodes and keys (see provisionTableDefinition). @default files under the data dir */
  stateTable?: string;
  /** AWS mode: DynamoDB table of execution records. @default COMPUTE_NODE_EXECUTIONS_TABLE, else each node's `executionTableName` output */
  executionsTable?: string;
  /**
   * How long to wait for the data directory's lock (and, with `stateTable`, the table's lease) before
   * giving up: a process restarted right after a crash waits for the dead holder's lock or lease to go
   * stale (30 s) instead of failing. @default 35
   */
  lockWaitSeconds?: number;
  /**
   * Which engine provisions nodes: `pulumi` (the Automation API), `local` (a node is a directory
   * under the data dir; only with `local`), or `auto`: the local engine under `local` when no Pulumi
   * CLI is found, Pulumi otherwise. @default "auto"
   */
  nodeEngine?: NodeEngineChoice;
}

export type NodeEngineChoice = "auto" | "local" | "pulumi";

/**
 * The bearer token: `--token-file` (first line) or COMPUTE_NODE_API_TOKEN. Without one the service
 * refuses to start unless auth was turned off explicitly: fail closed.
 */
export async function resolveAuth(options: Pick<ServeOptions, "tokenFile" | "insecureNoAuth">, env: NodeJS.ProcessEnv): Promise<AuthConfig> {
  const invalid = (message: string, path: string) => new ValidationError([{ code: "invalid_auth_config", path: [path], message }]);
  if (options.tokenFile) {
    const text = await readFile(options.tokenFile, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw invalid(`cannot read the token file ${options.tokenFile}: ${err.code ?? err.message}`, "--token-file");
    });
    const token = text.split("\n")[0].trim();
    if (token.length < 16) throw invalid(`the token in ${options.tokenFile} is shorter than 16 characters`, "--token-file");
    return { token };
  }
  const fromEnv = env.COMPUTE_NODE_API_TOKEN?.trim();
  if (fromEnv) {
    if (fromEnv.length < 16) throw invalid("COMPUTE_NODE_API_TOKEN is shorter than 16 characters", "COMPUTE_NODE_API_TOKEN");
    return { token: fromEnv };
  }
  if (options.insecureNoAuth) return { disabled: true };
  throw invalid("no API token: set COMPUTE_NODE_API_TOKEN or pass --token-file <file>; to run without auth (never on a shared network) pass --insecure-no-auth", "COMPUTE_NODE_API_TOKEN");
}

/** The service with its production defaults: Automation API engine, file store, local or AWS runtime. */
export async function createDefaultService(options: ServeOptions, deps: { env: NodeJS.ProcessEnv; logger: Logger; auth: AuthConfig; program?: NodeProgramSource }): Promise<Service> {
  const dataDir = resolve(options.dataDir);
  const { env, logger } = deps;
  const program = deps.program ?? defaultNodeProgram();
  // --pulumi-root / PULUMI_CLI_ROOT, else what `npm run engine:build` left in .engine/, else PATH.
  const found = discoverEngine({ env, pulumiRoot: options.pulumiRoot });
  const cliRoot = found.cliRoot;
  const envVars: Record<string, string> = {};
  if (cliRoot) envVars.PATH = `${join(resolve(cliRoot), "bin")}:${env.PATH ?? ""}`;
  // Inline programs run from per-stack work dirs: the destroy hook finds this checkout through it.
  envVars[CHECKOUT_ROOT_ENV] = env[CHECKOUT_ROOT_ENV] ?? packageRoot();
  if (options.local) {
    envVars.PULUMI_BACKEND_URL = env.PULUMI_BACKEND_URL ?? `file://${join(dataDir, "pulumi-state")}`;
    envVars.PULUMI_CONFIG_PASSPHRASE = await localPassphrase(dataDir, env);
  } else if (!env.PULUMI_BACKEND_URL && !env.PULUMI_ACCESS_TOKEN) {
    logger.warn("no PULUMI_BACKEND_URL or PULUMI_ACCESS_TOKEN: stack state goes to the backend the Pulumi CLI is logged in to");
  }
  const validateSpec = (spec: NodeSpec) => {
    try {
      program.validate(spec);
    } catch (err) {
      // Without the node program every node call is refused by the engine check anyway.
      if (!(err instanceof UnavailableError)) throw err;
    }
  };
  const choice = options.nodeEngine ?? "auto";
  if (choice === "local" && !options.local)
    throw new ValidationError([{ code: "invalid_node_engine", path: ["--node-engine"], message: "--node-engine local needs --local: local nodes run executions with the embedded runner, which only --local uses" }]);
  const useLocalEngine = choice === "local" || (choice === "auto" && options.local && found.source === "none");
  const runtimeRoot = join(dataDir, "runtime");
  if (useLocalEngine) {
    logger.info(`engine: local nodes (directories under ${runtimeRoot}; no Pulumi, no AWS)${choice === "auto" ? `; ${found.description}` : ""}`);
    return buildService({
      dataDir,
      store: options.stateTable ? dynamoStore(options.stateTable, env) : undefined,
      auth: deps.auth,
      logger,
      engine: new LocalNodeEngine({ root: runtimeRoot }),
      runtime: lazyLocalRuntime({ root: runtimeRoot, inputRoot: join(dataDir, "inputs"), outputRoot: join(dataDir, "outputs") }),
      maxConcurrentOperations: options.maxConcurrentOperations,
      engineInfo: { nodeEngine: "local", stateBackend: "local directories" },
      // The same options as a real node, so what works locally is accepted on AWS.
      validateSpec,
    });
  }
  logger.info(`engine: ${found.description}`);
  const engine: StackEngine = new AutomationStackEngine({
    program: (spec) => program.program(spec),
    preflight: () => program.ensureLoaded(),
    dataDir,
    cliRoot,
    envVars,
    // The cache's PULUMI_HOME holds the AWS provider engine:build made; elsewhere the CLI installs it.
    pulumiHome: found.pulumiHome,
    // The node program creates AWS resources in both modes; --local only keeps the state local.
    plugins: found.awsPluginInstalled ? [] : awsPlugin(),
  });
  const runtime: WorkflowRuntime = options.local
    ? lazyLocalRuntime({ root: runtimeRoot, inputRoot: join(dataDir, "inputs"), outputRoot: join(dataDir, "outputs") })
    : new AwsWorkflowRuntime({ executionTable: options.executionsTable ?? env.COMPUTE_NODE_EXECUTIONS_TABLE, recordsDir: join(dataDir, "records") });
  return buildService({
    dataDir,
    store: options.stateTable ? dynamoStore(options.stateTable, env) : undefined,
    auth: deps.auth,
    logger,
    engine,
    runtime,
    maxConcurrentOperations: options.maxConcurrentOperations,
    engineInfo: { nodeEngine: "pulumi", stateBackend: backendKind(envVars.PULUMI_BACKEND_URL ?? env.PULUMI_BACKEND_URL, env) },
    validateSpec,
  });
}

/**
 * The local runtime, loaded on first use: it brings the embedded Step Functions interpreter
 * (aws-local-stepfunctions and its validators), which /healthz, /readyz and node calls never need,
 * so `serve --local` answers sooner. Every member but `backend` is the real runtime's, however the
 * runtime grows.
 */
export function lazyLocalRuntime(options: LocalWorkflowRuntimeOptions): WorkflowRuntime {
  let runtime: WorkflowRuntime | undefined;
  const load = (): WorkflowRuntime => {
    const { LocalWorkflowRuntime } = require("../lib/provision/local-runtime") as typeof import("../lib/provision/local-runtime");
    return (runtime ??= new LocalWorkflowRuntime(options));
  };
  return new Proxy({ backend: "local" } as WorkflowRuntime, {
    get(known, key) {
      if (key === "backend") return known.backend;
      const real = load();
      const value = (real as unknown as Record<PropertyKey, unknown>)[key];
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
}

/** The kind of Pulumi state backend, without its location (readiness is unauthenticated). */
function backendKind(url: string | undefined, env: NodeJS.ProcessEnv): string {
  if (url?.startsWith("file://")) return "file";
  if (url?.startsWith("s3://")) return "s3";
  if (url) return url.split("://")[0] || "custom";
  return env.PULUMI_ACCESS_TOKEN ? "pulumi-cloud" : "pulumi CLI login";
}

function dynamoStore(tableName: string, env: NodeJS.ProcessEnv): ProvisionStore {
  const { DynamoProvisionStore } = require("../lib/provision/dynamo-store") as typeof import("../lib/provision/dynamo-store");
  return new DynamoProvisionStore({ client: stateTableClient(env), tableName });
}

/**
 * The DynamoDB client for `--state-table` (the store and its lease): region from AWS_REGION or
 * AWS_DEFAULT_REGION, endpoint from AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL, credentials from the SDK's chain.
 */
export function stateTableClient(env: NodeJS.ProcessEnv): DynamoDBDocumentClient {
  const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  const { DynamoDBDocumentClient } = require("@aws-sdk/lib-dynamodb") as typeof import("@aws-sdk/lib-dynamodb");
  const client = new DynamoDBClient({ region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL, retryMode: "adaptive" });
  return DynamoDBDocumentClient.from(client);
}

function awsPlugin() {
  try {
    return [{ name: "aws", version: (require("@pulumi/aws/package.json") as { version: string }).version }];
  } catch {
    return [];
  }
}

