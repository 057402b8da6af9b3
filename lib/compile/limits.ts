/** Step Functions hard limits a compiled machine must respect. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html */
export const SFN_LIMITS = {
  definitionBytes: 1_048_576,
  historyEvents: 25_000,
  payloadBytes: 262_144,
  stateNameLength: 80,
  /** AWS runs at most 40 iterations of an inline Map at once; more need a Distributed Map. */
  inlineMapConcurrency: 40,
} as const;

/** What compile plans for, below the hard limits: retries of throttled calls add history events, and sizes are estimated before rendering. */
export interface CompileLimits {
  /** @default 900000 */
  definitionBytes: number;
  /** @default 20000 */
  historyEvents: number;
}

export const DEFAULT_LIMITS: CompileLimits = { definitionBytes: 900_000, historyEvents: 20_000 };

/** History events each kind of state writes on the success path (Entered/Scheduled/Started/…/Exited). */
export const EVENTS = {
  pass: 2,
  choice: 2,
  succeed: 2,
  execution: 2,
  lambdaTask: 5,
  sdkTask: 5,
  syncTask: 6,
  parallel: 4,
  map: 4,
  mapIteration: 2,
  distributedMap: 6,
} as const;

/**
 * Longest TimeoutSeconds compiled Tasks carry (about 24.8 days). ECS processors have no time limit,
 * but leaving TimeoutSeconds out makes local runners use a short default, and a longer value overflows
 * Node's timer (2^31-1 ms), which then fires at once.
 */
export const MAX_TASK_TIMEOUT_SECONDS = 2_147_483;
