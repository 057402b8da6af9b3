import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EngineEvent, InlineProgramArgs, LocalWorkspaceOptions, OutputMap, PulumiFn, Stack, StackSettings } from "@pulumi/pulumi/automation";
import { ComputeNodeError, ConflictError, NotFoundError, UnavailableError } from "../errors";
import { EngineEventBody } from "./events";
import { NodeSpec, PreviewResult, PreviewStep, RefreshStackOptions, StackChangeResult, StackEngine, StackOperationOptions, StackOutputs } from "./stack-engine";

/** The Automation API calls the engine makes; swapped in tests that run without the Pulumi CLI. */
export interface AutomationApi {
  /** Resolves when a usable CLI is found (`pulumi version` ran); rejects otherwise. */
  checkCli(): Promise<{ command: string; version: string }>;
  createOrSelectStack(args: InlineProgramArgs, options: LocalWorkspaceOptions): Promise<AutomationStack>;
  selectStack(args: InlineProgramArgs, options: LocalWorkspaceOptions): Promise<AutomationStack>;
}

/** The part of an Automation API `Stack` the engine uses. */
export type AutomationStack = Pick<Stack, "name" | "setAllConfig" | "up" | "preview" | "refresh" | "destroy" | "cancel" | "outputs"> & {
  workspace: Pick<Stack["workspace"], "installPlugin" | "stackSettings">;
};

export interface AutomationEngineOptions {
  /** The inline program of a node (in production `computeNodeProgram(parseNodeConfig(...))`). */
  program: (node: NodeSpec) => PulumiFn;
  /** Per-stack work directories are created under `<dataDir>/work/` and removed after each operation. */
  dataDir: string;
  /** @default "compute-node" */
  projectName?: string;
  /** Prefix of stack names, e.g. `my-org/compute-node/` for Pulumi Cloud. @default "" (the node id is the stack name) */
  stackPrefix?: string;
  /** The stack name of a node, instead of `stackPrefix` + node id (`compute-node node up --stack NAME`). */
  stackName?: (nodeId: string) => string;
  /** Environment of every Pulumi command: PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, AWS credentials… */
  envVars?: Record<string, string>;
  /** @default `<dataDir>/pulumi-home` */
  pulumiHome?: string;
  /** Directory holding `bin/pulumi`. @default the `pulumi` on PATH */
  cliRoot?: string;
  /** Provider plugins installed once (serialized) before the first operation. @default [] */
  plugins?: { name: string; version: string }[];
  /** Also checked by ensureAvailable (e.g. that the node program loads), so a call that cannot run is refused up front. */
  preflight?: () => void;
  /** Secrets provider of new stacks. @default "passphrase" when PULUMI_CONFIG_PASSPHRASE is set, else the backend's default */
  secretsProvider?: string;
  automation?: AutomationApi;
}

/** A stack operation failed inside the engine; the tail of the CLI's error output is the message. */
export class StackOperationError extends ComputeNodeError {
  override name = "StackOperationError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("stack_operation_failed", message, options);
  }
}

export const PULUMI_INSTALL_HINT =
  "run `npm run engine:build` (builds the Pulumi CLI and the AWS provider into the checkout's .engine/, found without further setup; `scripts/build-pulumi-cli.sh` builds the CLI alone), or install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/) and put it on PATH or name its directory with PULUMI_CLI_ROOT";

/**
 * {@link StackEngine} over the Pulumi Automation API: one stack per node (named after the node id)
 * with the node component as inline program, `aws:region` from the node, a fresh work directory per
 * operation (removed afterwards; the stack settings file, which holds the passphrase salt, is kept
 * under the data dir between operations), and plugins installed once.
 */
export class AutomationStackEngine implements StackEngine {
  private readonly automation: AutomationApi;
  private readonly projectName: string;
  private cli?: Promise<{ command: string; version: string }>;
  private plugins?: Promise<void>;

  constructor(private readonly options: AutomationEngineOptions) {
    this.automation = options.automation ?? realAutomationApi(options.cliRoot);
    this.projectName = options.projectName ?? "compute-node";
  }

  /** The stack name of a node. */
  stackName(nodeId: string): string {
    return this.options.stackName?.(nodeId) ?? `${this.options.stackPrefix ?? ""}${nodeId}`;
  }

  async ensureAvailable(): Promise<void> {
    this.cli ??= this.automation.checkCli().catch((err) => {
      this.cli = undefined;
      throw new UnavailableError(`the Pulumi CLI is not available (${this.options.cliRoot ? join(this.options.cliRoot, "bin/pulumi") : "pulumi on PATH"}): ${PULUMI_INSTALL_HINT}`, { cause: err });
    });
    await this.cli;
    this.options.preflight?.();
  }

  up(node: NodeSpec, options: StackOperationOptions = {}): Promise<StackChangeResult> {
    return this.withStack(node, "createOrSelect", async (stack) => {
      const result = await stack.up({ ...commandOptions(options), suppressOutputs: true });
      return { resourceChanges: { ...(result.summary.resourceChanges ?? {}) }, outputs: toOutputs(result.outputs) };
    });
  }

  preview(node: NodeSpec, options: StackOperationOptions = {}): Promise<PreviewResult> {
    return this.withStack(node, "createOrSelect", async (stack) => {
      // The per-resource steps are the preview's resource-pre events (names of changed properties only).
      const steps: PreviewStep[] = [];
      const onEvent: StackOperationOptions["onEvent"] = (event) => {
        if (event.type === "resource-pre" && !event.resourceType.startsWith("pulumi:pulumi:"))
          steps.push({ urn: event.urn, resourceType: event.resourceType, op: event.op, ...(event.diffs ? { diffs: event.diffs } : {}) });
        options.onEvent?.(event);
      };
      const result = await stack.preview(commandOptions({ ...options, onEvent }));
      return { resourceChanges: { ...result.changeSummary } as Record<string, number>, steps };
    });
  }

  refresh(node: NodeSpec, options: RefreshStackOptions = {}): Promise<StackChangeResult> {
    return this.withStack(node, "select", async (stack) => {
      const result = await stack.refresh({ ...commandOptions(options), clearPendingCreates: options.clearPendingCreates, suppressOutputs: true });
      return { resourceChanges: { ...(result.summary.resourceChanges ?? {}) }, outputs: toOutputs(await stack.outputs()) };
    });
  }

  destroy(node: NodeSpec, options: StackOperationOptions = {}) {
    return this.withStack(
      node,
      "select",
      async (stack) => {
        const result = await stack.destroy({ ...commandOptions(options), remove: true });
        return { resourceChanges: { ...(result.summary.resourceChanges ?? {}) } };
      },
      { removesStack: true },
    );
  }

  async cancel(node: NodeSpec): Promise<void> {
    try {
      await this.withStack(node, "select", (stack) => stack.cancel());
    } catch (err) {
      // Nothing to release: no stack, or no update in progress.
      if (err instanceof NotFoundError || err instanceof StackOperationError) return;
      throw err;
    }
  }

  outputs(node: NodeSpec): Promise<StackOutputs> {
    return this.withStack(node, "select", async (stack) => toOutputs(await stack.outputs()));
  }

  /** Stack config of a node: what `Pulumi.<stack>.yaml` gets before every operation. */
  stackConfig(node: NodeSpec): Record<string, { value: string; secret?: boolean }> {
    return {
      "aws:region": { value: node.region },
      "compute-node:computeNodeId": { value: node.id },
      "compute-node:mode": { value: node.mode },
    };
  }

  /** The work directory of a node's stack; it exists only while an operation runs. */
  workDir(nodeId: string): string {
    return join(this.options.dataDir, "work", safeDirName(this.stackName(nodeId)));
  }

  private settingsFile(nodeId: string) {
    return join(this.options.dataDir, "stack-settings", `${safeDirName(this.stackName(nodeId))}.json`);
  }

  private async withStack<T>(node: NodeSpec, how: "createOrSelect" | "select", use: (stack: AutomationStack) => Promise<T>, { removesStack = false } = {}): Promise<T> {
    await this.ensureAvailable();
    await this.ensureFileBackend();
    const workDir = this.workDir(node.id);
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const stackName = this.stackName(node.id);
    try {
      const saved = await readSettings(this.settingsFile(node.id));
      const secretsProvider = this.options.secretsProvider ?? (this.options.envVars?.PULUMI_CONFIG_PASSPHRASE !== undefined || process.env.PULUMI_CONFIG_PASSPHRASE !== undefined ? "passphrase" : undefined);
      const workspaceOptions: LocalWorkspaceOptions = {
        workDir,
        pulumiHome: this.options.pulumiHome ?? join(this.options.dataDir, "pulumi-home"),
        envVars: { PULUMI_SKIP_UPDATE_CHECK: "true", ...this.options.envVars },
        projectSettings: { name: this.projectName, runtime: "nodejs", description: "compute-node stacks, one per compute node (managed by the provisioner service)" },
        ...(secretsProvider ? { secretsProvider } : {}),
        ...(saved ? { stackSettings: { [stackName]: saved } } : {}),
      };
      const args: InlineProgramArgs = { stackName, projectName: this.projectName, program: this.options.program(node) };
      const stack = await mapErrors(stackName, () => (how === "select" ? this.automation.selectStack(args, workspaceOptions) : this.automation.createOrSelectStack(args, workspaceOptions)));
      await this.installPlugins(stack);
      await mapErrors(stackName, () => stack.setAllConfig(this.stackConfig(node)));
      let removed = false;
      try {
        const result = await mapErrors(stackName, () => use(stack));
        removed = removesStack;
        return result;
      } finally {
        if (removed) await rm(this.settingsFile(node.id), { force: true });
        else {
          const settings = await stack.workspace.stackSettings(stackName).catch(() => undefined);
          if (settings) await writeSettings(this.settingsFile(node.id), settings);
        }
      }
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** The CLI refuses a file backend whose directory does not exist yet. */
  private async ensureFileBackend() {
    const url = this.options.envVars?.PULUMI_BACKEND_URL ?? process.env.PULUMI_BACKEND_URL;
    if (!url?.startsWith("file://")) return;
    const path = url.slice("file://".length).split("?")[0];
    if (path.startsWith("/")) await mkdir(path, { recursive: true });
  }

  private installPlugins(stack: AutomationStack): Promise<void> {
    const plugins = this.options.plugins ?? [];
    if (!plugins.length) return Promise.resolve();
    // One install at a time, once per process: concurrent operations wait for the same promise.
    this.plugins ??= (async () => {
      for (const plugin of plugins) await stack.workspace.installPlugin(plugin.name, plugin.version, "resource");
    })().catch((err) => {
      this.plugins = undefined;
      const home = this.options.pulumiHome ?? join(this.options.dataDir, "pulumi-home");
      const commands = plugins.map((p) => `PULUMI_HOME=${home} pulumi plugin install resource ${p.name} ${p.version}`).join("; ");
      throw new UnavailableError(`could not install the Pulumi plugins ${plugins.map((p) => `${p.name}@${p.version}`).join(", ")} (no network to the plugin server?): install them with \`${commands}\` and retry`, { cause: err });
    });
    return this.plugins;
  }
}

/** The Automation API's typed errors, mapped once. ConcurrentUpdateError is a locked stack: 409. */
async function mapErrors<T>(stackName: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapAutomationError(stackName, err);
  }
}

export function mapAutomationError(stackName: string, err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof ComputeNodeError) return err;
  switch (err.name) {
    case "ConcurrentUpdateError":
      return new ConflictError(`stack "${stackName}" is locked by another update (another process, or one interrupted by a crash: a recover operation or \`pulumi cancel\` releases it)`, undefined, { cause: err });
    case "StackNotFoundError":
      return new NotFoundError(`stack "${stackName}" does not exist`, { cause: err });
    case "CommandError":
    case "StackAlreadyExistsError":
      return new StackOperationError(`pulumi failed on stack "${stackName}": ${stderrTail(err)}`, { cause: err });
    default:
      return err;
  }
}

function stderrTail(err: Error): string {
  const result = (err as { commandResult?: { stderr?: string; code?: number } }).commandResult;
  const text = (result?.stderr ?? "").trim() || err.message;
  const lines = text.split("\n").filter((l) => l.trim());
  return lines.slice(-12).join("\n");
}

function commandOptions(options: StackOperationOptions) {
  return {
    signal: options.signal,
    color: "never" as const,
    onEvent: options.onEvent ? (event: EngineEvent) => forwardEvent(event, options.onEvent!) : undefined,
  };
}

/** One Automation API event as ours; payloads we do not show (prelude, policy, debugging) are dropped. */
export function toEngineEventBody(event: EngineEvent): EngineEventBody | undefined {
  const meta = (m: { urn: string; type: string; op: string }) => ({ urn: m.urn, resourceType: m.type, op: m.op });
  if (event.resourcePreEvent) {
    // Names of the changed properties only (never their values, which may be secret): what a preview shows.
    const diffs = event.resourcePreEvent.metadata.diffs;
    return { type: "resource-pre", ...meta(event.resourcePreEvent.metadata), ...(diffs?.length ? { diffs: [...diffs] } : {}) };
  }
  if (event.resOutputsEvent) return { type: "resource-outputs", ...meta(event.resOutputsEvent.metadata) };
  if (event.resOpFailedEvent) return { type: "resource-failed", ...meta(event.resOpFailedEvent.metadata) };
  if (event.diagnosticEvent) {
    const d = event.diagnosticEvent;
    // Debug diagnostics are the SDK's own tracing (RegisterResource responses with resource outputs,
    // secrets included): never forwarded.
    if (d.ephemeral || String(d.severity) === "debug") return undefined;
    return { type: "diagnostic", severity: d.severity, message: stripAnsi(d.message).trimEnd(), ...(d.urn ? { urn: d.urn } : {}) };
  }
  if (event.stdoutEvent) return { type: "output", text: stripAnsi(event.stdoutEvent.message).trimEnd() };
  if (event.summaryEvent) return { type: "summary", resourceChanges: { ...event.summaryEvent.resourceChanges } as Record<string, number>, durationSeconds: event.summaryEvent.durationSeconds };
  if (event.cancelEvent) return { type: "cancel" };
  return undefined;
}

function forwardEvent(event: EngineEvent, listener: NonNullable<StackOperationOptions["onEvent"]>) {
  const body = toEngineEventBody(event);
  if (body) listener({ ...body, timestamp: new Date(event.timestamp * 1000).toISOString() });
}

function toOutputs(outputs: OutputMap): StackOutputs {
  return Object.fromEntries(Object.entries(outputs).map(([name, o]) => [name, { value: o.secret ? undefined : o.value, secret: !!o.secret }]));
}

const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
const safeDirName = (stackName: string) => stackName.replace(/[^A-Za-z0-9_.-]+/g, "_");

async function readSettings(file: string): Promise<StackSettings | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text ? (JSON.parse(text) as StackSettings) : undefined;
}

async function writeSettings(file: string, settings: StackSettings) {
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, JSON.stringify(settings, null, 2), { mode: 0o600 });
}

/** The real Automation API, loaded on first use: importing it is slow and tests rarely need it. */
export function realAutomationApi(cliRoot?: string): AutomationApi {
  const load = () => require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
  const command = () => load().PulumiCommand.get({ root: cliRoot, skipVersionCheck: true });
  return {
    async checkCli() {
      const found = await command();
      return { command: found.command, version: found.version?.toString() ?? "unknown" };
    },
    async createOrSelectStack(args, options) {
      return load().LocalWorkspace.createOrSelectStack(args, { ...options, pulumiCommand: await command() });
    },
    async selectStack(args, options) {
      return load().LocalWorkspace.selectStack(args, { ...options, pulumiCommand: await command() });
    },
  };
}
