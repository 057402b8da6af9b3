import { DeploymentMode } from "../model/mode";
import { EngineEventBody } from "./events";

/** What a compute node stack is built from: the service's node record minus its bookkeeping. */
export interface NodeSpec {
  /** Compute node id; also names the stack. */
  id: string;
  mode: DeploymentMode;
  region: string;
  /** Node program options (see lib/node/config.ts), passed to the program unchanged. */
  options: Record<string, unknown>;
}

/** Engine events as they happen; the timestamp is the engine's, as an ISO string. */
export type EngineEventListener = (event: EngineEventBody & { timestamp: string }) => void;

/** Per-call options of every stack operation. */
export interface StackOperationOptions {
  onEvent?: EngineEventListener;
  /** Aborting asks the engine to stop gracefully (the CLI gets SIGINT); the call then rejects. */
  signal?: AbortSignal;
}

/** One stack output; `secret` outputs are never shown by the API. */
export interface StackOutput {
  value: unknown;
  secret: boolean;
}
export type StackOutputs = Record<string, StackOutput>;

export interface StackChangeResult {
  /** Counts per operation type (`create`, `update`, `same`, `delete`…). */
  resourceChanges: Record<string, number>;
  outputs: StackOutputs;
}

/** One planned resource change of a preview. */
export interface PreviewStep {
  urn: string;
  resourceType: string;
  /** `create`, `update`, `replace`, `delete`, `same`… */
  op: string;
  /** Names of the properties that change (never their values). */
  diffs?: string[];
}

export interface PreviewResult {
  resourceChanges: Record<string, number>;
  /** Per-resource steps, where the engine reports them. */
  steps?: PreviewStep[];
}

/** Options of {@link StackEngine.refresh}. */
export interface RefreshStackOptions extends StackOperationOptions {
  /** Drop pending creates an interrupted update left in the state (they would block the next update). @default false */
  clearPendingCreates?: boolean;
}

/**
 * The stack operations the provisioner needs, one stack per compute node. The real implementation
 * wraps the Pulumi Automation API ({@link AutomationStackEngine}); tests use an in-memory one.
 * Every operation rejects with ConflictError when the stack is locked by another update,
 * UnavailableError when the engine cannot run at all (no Pulumi CLI), and NotFoundError for a
 * stack that does not exist (outputs, refresh, destroy).
 */
export interface StackEngine {
  /** Resolves when operations can run; rejects with UnavailableError naming what to install otherwise. */
  ensureAvailable(): Promise<void>;
  up(node: NodeSpec, options?: StackOperationOptions): Promise<StackChangeResult>;
  /** Plans the change `up` would make, changing nothing. */
  preview(node: NodeSpec, options?: StackOperationOptions): Promise<PreviewResult>;
  refresh(node: NodeSpec, options?: RefreshStackOptions): Promise<StackChangeResult>;
  /** Deletes every resource and then the stack itself. */
  destroy(node: NodeSpec, options?: StackOperationOptions): Promise<{ resourceChanges: Record<string, number> }>;
  /** Releases a lock an interrupted update left on the stack. A stack that is not locked is fine. */
  cancel(node: NodeSpec): Promise<void>;
  outputs(node: NodeSpec): Promise<StackOutputs>;
}
