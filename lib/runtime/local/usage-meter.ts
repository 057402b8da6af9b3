import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { NodeFunctionKind, RunUsage } from "../../cost/report";
import type { LocalRunEvent } from "./events";

/** The state events of aws-local-stepfunctions the meter reads (its EventLog, narrowed). */
export interface MachineEvent {
  type: string;
  state?: { name: string };
}

interface OpenRun {
  startMs: number;
  endMs?: number;
  outcome?: "SUCCEEDED" | "FAILED";
}

/**
 * What a local execution used, measured the way the finalize Lambda measures an AWS one, so the
 * two price the same run the same: every processor run and retry (from the runner's events), state
 * transitions (from the machine's events: one per state entered, one per retry), invocations of the
 * node's Lambdas' stand-ins, and token reads. One meter per execution; `clock` is the only time source.
 */
export class LocalUsageMeter {
  stateTransitions = 0;
  secretApiCalls = 0;
  readonly functions: Record<NodeFunctionKind, (number | null)[]> = { "data-transfer": [], finalize: [], join: [], tokens: [] };
  private readonly runs = new Map<string, OpenRun[]>();

  constructor(private readonly clock: () => Date) {}

  /** Feeds the runner's own events: a processor's runs start, retry and finish. */
  observe(event: LocalRunEvent): void {
    const at = Date.parse(event.timestamp);
    if (event.type === "processor-started") {
      const list = this.runs.get(event.processorId) ?? [];
      list.push({ startMs: at });
      this.runs.set(event.processorId, list);
    } else if (event.type === "processor-retrying" || event.type === "processor-finished") {
      const run = this.runs.get(event.processorId)?.find((r) => r.endMs === undefined);
      // The runner measures the last run itself; a retried run ends when the retry is announced.
      if (run) {
        run.endMs = event.type === "processor-finished" ? run.startMs + event.durationMs : at;
        run.outcome = event.type === "processor-finished" ? (event.status === "SUCCEEDED" ? "SUCCEEDED" : "FAILED") : "FAILED";
      }
    }
  }

  /** Counts a machine event: a state entered or retried is a transition, a token state entered (`resolveTokenStates`: ResolveToken or a tokens-function call) a secret read. */
  observeMachine(event: MachineEvent, resolveTokenStates: ReadonlySet<string>): void {
    if (event.type === "StateEntered") {
      this.stateTransitions++;
      if (event.state && resolveTokenStates.has(event.state.name)) this.secretApiCalls++;
    } else if (event.type === "StateRetried") this.stateTransitions++;
  }

  /** Runs one invocation of a node Lambda's stand-in and records how long it took (`timed: false`: a join-wait, whose time is waiting). */
  async invoke<T>(kind: NodeFunctionKind, timed: boolean, body: () => Promise<T>): Promise<T> {
    const start = this.clock().getTime();
    try {
      return await body();
    } finally {
      this.functions[kind].push(timed ? (this.clock().getTime() - start) / 1000 : null);
    }
  }

  /** Lets event counting catch up with what the machine has already emitted. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Each processor's runs so far; a run still going is priced up to `now`. */
  processorRuns(now: Date): Map<string, RunUsage[]> {
    return new Map(
      [...this.runs].map(([id, list]) => [id, list.map((r) => ({ seconds: Math.max(0, ((r.endMs ?? now.getTime()) - r.startMs) / 1000), finished: r.endMs !== undefined, ...(r.outcome ? { outcome: r.outcome } : {}) }))]),
    );
  }
}

/** Events and bytes of the processors' log files: what their awslogs streams would have ingested. */
export async function logVolume(logsDir: string): Promise<{ events: number; bytes: number }> {
  const files = await readdir(logsDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  let events = 0;
  let bytes = 0;
  for (const f of files) {
    if (!f.isFile()) continue;
    for await (const chunk of createReadStream(join(logsDir, f.name)) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) events++;
    }
  }
  // An event's newline is not part of its message.
  return { events, bytes: Math.max(0, bytes - events) };
}
