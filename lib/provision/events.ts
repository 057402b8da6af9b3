/**
 * What a stack engine reports while an operation runs, aligned with the Automation API's
 * `EngineEvent` payloads but flattened to one `type` field. Resource inputs and outputs are never
 * carried: they may hold secrets.
 */
export type EngineEventBody =
  | { type: "resource-pre"; urn: string; resourceType: string; op: string; /** Names of the properties that change (no values). */ diffs?: string[] }
  | { type: "resource-outputs"; urn: string; resourceType: string; op: string }
  | { type: "resource-failed"; urn: string; resourceType: string; op: string }
  | { type: "diagnostic"; severity: string; message: string; urn?: string }
  | { type: "output"; text: string }
  | { type: "summary"; resourceChanges: Record<string, number>; durationSeconds?: number }
  | { type: "cancel" };

/** Added by the operation manager around the engine's own events. */
export type LifecycleEventBody =
  | { type: "operation-queued"; kind: OperationKind; nodeId: string }
  | { type: "operation-started"; kind: OperationKind; nodeId: string }
  | { type: "cleanup-started"; nodeId: string; force: boolean }
  | { type: "cleanup-finished"; nodeId: string }
  | { type: "cancel-requested" }
  | { type: "operation-finished"; state: TerminalOperationState; error?: OperationErrorInfo };

export type OperationEventBody = EngineEventBody | LifecycleEventBody;

/** An event of one operation: `sequence` starts at 1 and grows by one; the last event is always `operation-finished`. */
export type OperationEvent = { sequence: number; timestamp: string; operationId: string } & OperationEventBody;

export type OperationKind = "create" | "update" | "destroy" | "recover";
export type OperationState = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "interrupted";
export type TerminalOperationState = Exclude<OperationState, "queued" | "running">;

export const TERMINAL_OPERATION_STATES: readonly TerminalOperationState[] = ["succeeded", "failed", "cancelled", "interrupted"];
export const isTerminalOperationState = (state: OperationState): state is TerminalOperationState => (TERMINAL_OPERATION_STATES as readonly string[]).includes(state);

/** A failure as the API shows it: a stable code and a message safe to show the caller. */
export interface OperationErrorInfo {
  code: string;
  message: string;
  /** The operation or execution holding the stack, for conflicts. */
  holderId?: string;
}
