import { BudgetLevel, ExecutionLlmTotals, LlmBudgets, LlmUsageRecord, BUDGET_CONFIG_KEYS, NANO_PER_USD, USAGE_RETENTION_DAYS } from "./contract";

/** One budget a call counts against: a level, the scope it belongs to (node, execution, user) and its time window. */
export interface BudgetCounter {
  level: BudgetLevel;
  /** Stable key of the counter (level, scope and window). */
  key: string;
  /** `2026-12-02` (daily), `2026-12` (monthly) or `lifetime` (execution). */
  window: string;
  capNano: number;
  /** When the counter may be forgotten (epoch seconds): well after its window closed. */
  expiresAt: number;
}

/** A reservation's handle: enough to settle or release it, or for a sweeper to free it and record the abandoned call. */
export interface Reservation {
  id: string;
  counters: BudgetCounter[];
  amountNano: number;
  /** Epoch milliseconds after which an unsettled reservation is considered abandoned. */
  expiresAtMs: number;
  /** The call it was taken for: what a sweep records when it frees it. */
  call: Pick<LlmUsageRecord, "callId" | "computeNodeId" | "executionId" | "processorId" | "userId" | "model" | "bedrockModelId" | "stream" | "startedAt">;
}

export type ReserveOutcome = { reserved: true } | { reserved: false; counter: BudgetCounter; committedNano: number };

/** What a settled call adds to its counters and execution totals. */
export interface Settlement {
  reservation: Reservation;
  /** The real cost (nano-USD); may be 0 (a failed call) and is never more than the reservation unless usage exceeded its bound. */
  costNano: number;
  usage: LlmUsageRecord;
}

/** A counter's state as `GET /v1/budget` shows it. */
export interface CounterState {
  committedNano: number;
  spentNano: number;
}

export interface UsageQuery {
  executionId?: string;
  /** Calls started at or after this time. */
  since?: Date;
  /** Calls started at or before this time (the caller's now, for an open range). */
  until: Date;
}

/**
 * Where budgets, reservations, usage records and execution totals live: DynamoDB on AWS (one table
 * per node), a lock-guarded file store locally. Every method is atomic with respect to every other
 * caller of the same store, across processes: a reservation is taken at every level at once or not
 * at all, so concurrent calls can never commit more than a cap.
 */
export interface UsageStore {
  /** Adds `amountNano` to every counter if each stays within its cap; otherwise changes nothing and names the first counter that refused. */
  reserve(reservation: Reservation): Promise<ReserveOutcome>;
  /** Replaces the reservation by the real cost, records the usage item and the execution's totals. Once per reservation. */
  settle(settlement: Settlement): Promise<void>;
  /** Frees a reservation that will not be settled (the call failed before any token was billed), recording its usage item. */
  release(reservation: Reservation, usage: LlmUsageRecord): Promise<void>;
  /** Records a call refused before anything was reserved (no counter changes). */
  recordRefusal(usage: LlmUsageRecord): Promise<void>;
  /** Frees every reservation whose lifetime ended (a governor that crashed mid-call); answers how many. */
  sweepExpired(now: Date): Promise<number>;
  counters(keys: string[]): Promise<Map<string, CounterState>>;
  executionTotals(executionId: string): Promise<ExecutionLlmTotals>;
  usage(query: UsageQuery): Promise<LlmUsageRecord[]>;
}

const DAY_MS = 24 * 3600 * 1000;

/** The counters a call of this execution (and user) counts against at `now`, with their caps. */
export function budgetCounters(budgets: LlmBudgets, scope: { computeNodeId: string; executionId: string; userId?: string }, now: Date): BudgetCounter[] {
  const day = now.toISOString().slice(0, 10);
  const month = day.slice(0, 7);
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const dayEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const cap = (level: BudgetLevel) => Math.round(budgets[BUDGET_CONFIG_KEYS[level]] * NANO_PER_USD);
  const enc = encodeURIComponent;
  const counters: BudgetCounter[] = [
    { level: "nodeDaily", key: `budget#nodeDaily#${enc(scope.computeNodeId)}#${day}`, window: day, capNano: cap("nodeDaily"), expiresAt: seconds(dayEnd + 35 * DAY_MS) },
    { level: "nodeMonthly", key: `budget#nodeMonthly#${enc(scope.computeNodeId)}#${month}`, window: month, capNano: cap("nodeMonthly"), expiresAt: seconds(monthEnd + 400 * DAY_MS) },
    // The execution's counter also holds its totals, which finalize's cost report reads: kept as long as usage items.
    { level: "execution", key: executionCounterKey(scope.executionId), window: "lifetime", capNano: cap("execution"), expiresAt: seconds(now.getTime() + USAGE_RETENTION_DAYS * DAY_MS) },
  ];
  if (scope.userId)
    counters.push(
      { level: "userDaily", key: `budget#userDaily#${enc(scope.userId)}#${day}`, window: day, capNano: cap("userDaily"), expiresAt: seconds(dayEnd + 35 * DAY_MS) },
      { level: "userMonthly", key: `budget#userMonthly#${enc(scope.userId)}#${month}`, window: month, capNano: cap("userMonthly"), expiresAt: seconds(monthEnd + 400 * DAY_MS) },
    );
  return counters;
}

export function executionCounterKey(executionId: string): string {
  return `budget#execution#${encodeURIComponent(executionId)}#lifetime`;
}

/** When a usage item is forgotten (epoch seconds). */
export function usageExpiry(startedAt: Date): number {
  return Math.floor((startedAt.getTime() + USAGE_RETENTION_DAYS * DAY_MS) / 1000);
}

/** The usage item a sweep writes for a reservation nobody settled. */
export function abandonedUsage(reservation: Reservation, now: Date): LlmUsageRecord {
  return {
    ...reservation.call,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreationInputTokens: 0,
    cacheReadInputTokens: 0,
    costUsd: 0,
    reservedUsd: reservation.amountNano / NANO_PER_USD,
    usageEstimated: true,
    latencyMs: Math.max(0, now.getTime() - Date.parse(reservation.call.startedAt)),
    outcome: "abandoned",
    error: "reservation_expired",
  };
}
