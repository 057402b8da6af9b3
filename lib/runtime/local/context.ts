import { ChildProcess } from "node:child_process";
import Bottleneck from "bottleneck";
import { ResolvedPlan, ResolvedProcessor } from "../../plan/resolve";
import { LocalLayout } from "./layout";
import { FileRecordStore } from "../file-record-store";
import { LocalRunEventBody } from "./events";
import { LocalJoins } from "../../integrations/join/local";
import type { LlmAccess } from "../../integrations/llm/contract";
import type { NodeStaticValues } from "../../integrations/processor/local";
import type { RefreshSessionToken } from "../../integrations/tokens/local";
import type { MachineEvent } from "./runner";
import type { Clock } from "../../clock";
import { LocalUsageMeter } from "./usage-meter";
import type { S3Sender } from "../../integrations/transfer/local";

/** Shared state of one local execution, handed to every Task handler. */
export interface RunContext {
  plan: ResolvedPlan;
  layout: LocalLayout;
  executionId: string;
  workflowInstanceId: string;
  byHash: Map<string, ResolvedProcessor>;
  store: FileRecordStore;
  emit: (event: LocalRunEventBody) => void;
  /** Bounds how many processors run at once, across every Map, Parallel and child machine. */
  limiter: Bottleneck;
  /** Working directory of `localCommand` processes. */
  commandCwd: string;
  /** All a processor takes from the runner's environment: the node's static values and PATH (lib/integrations/processor/environment.ts). */
  processorHost: { node: NodeStaticValues; path?: string; dockerCli: Record<string, string> };
  dockerReachable: () => Promise<boolean>;
  /** Where DownloadInputs may copy local inputs from: the run's input directory. */
  localInputRoots: string[];
  /** Where the upload step may write: the run's outputs directory, when it has one. */
  localOutputRoots: string[];
  /** Uploads to an s3:// outputs destination (LocalRunOptions.s3). */
  outputS3?: S3Sender;
  /** The per-execution token file ResolveToken may read; nothing else. */
  secretFile: string;
  /** The execution's environment file (ECS processors' tokens), the stand-in of its S3 object. */
  envFile: string;
  /** Refreshes an expiring session token, as the node's Cognito app client does on AWS; absent: no refresh. */
  refreshTokens?: RefreshSessionToken;
  /** The run's clock (LocalRunOptions.now): record times, processor start and stop, token expiry. */
  now: Clock;
  /** Receives the machines' event logs (LocalRunOptions.onMachineEvent). */
  onMachineEvent?: (event: MachineEvent) => void;
  /** Processes still running, so an abandoned branch's processes can be stopped. */
  running: Map<string, ChildProcess>;
  /** Set when the body has ended (Cleanup or Finalize reached): queued processors must not start. */
  stopping: boolean;
  finishedCount: number;
  /** The first processor failure, for the record's error when the machine's own error is sanitized. */
  firstFailure?: { processorId: string; cause: string };
  /** Abort functions of the machines (main and children) running now. */
  aborts: Set<() => void>;
  /** Where Finalize put the archive and cost report. */
  artifacts: Record<string, string>;
  /** Exact mode's joins, shared by every machine of the run. */
  joins: LocalJoins;
  /** The run's LLM access, when the workflow's node config enables it: per-processor grants. */
  llm?: LlmAccess;
  /** Attempts so far per processor id (the compiled Retry runs a processor again). */
  attempts: Map<string, number>;
  /** What the run used, for its cost report. */
  usage: LocalUsageMeter;
  /** Region whose prices the cost report uses. */
  pricingRegion: string;
  /** With LLM access: the governor's usage directory (the cost report's LLM line). */
  llmUsageDir?: string;
  /** How long a stopped processor's group gets after SIGTERM before SIGKILL (LocalRunOptions.stopGraceMs). @default 5000 */
  stopGraceMs?: number;
  /** Set when the run's abort is a cancel: processors it stops end CANCELED, not FAILED. */
  canceling?: boolean;
  /** When the execution started (its token secret's lifetime starts then). */
  startedAt: Date;
}
