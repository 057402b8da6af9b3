import Bottleneck from "bottleneck";
import { isThrottle } from "./errors";

/** Sustained requests per second per `service:Operation`; AWS's documented or observed budgets. */
export const DEFAULT_RATES: Readonly<Record<string, number>> = {
  "ecs:RunTask": 20,
  "ecs:RegisterTaskDefinition": 1,
  "ecs:DeregisterTaskDefinition": 1,
  "ecs:DeleteTaskDefinitions": 1,
  "sfn:CreateStateMachine": 1,
  "sfn:UpdateStateMachine": 1,
  "sfn:DeleteStateMachine": 1,
  "sfn:GetExecutionHistory": 20,
  "sfn:StartExecution": 20,
  "lambda:CreateFunction": 5,
  "lambda:UpdateFunctionConfiguration": 5,
  "lambda:UpdateFunctionCode": 5,
  "lambda:DeleteFunction": 5,
  "logs:FilterLogEvents": 5,
  "logs:GetLogEvents": 25,
};
const FALLBACK_RATE = 10;

export interface RateLimits {
  /** Runs `call` within the budget of `key` (`service:Operation`), retrying throttles with backoff. */
  run<T>(key: string, call: () => Promise<T>): Promise<T>;
}

export interface RateLimitOptions {
  /** Overrides of {@link DEFAULT_RATES}. */
  rates?: Record<string, number>;
  /** Extra attempts after a throttling error that the SDK's own retries did not absorb. @default 4 */
  throttleRetries?: number;
  /** First backoff in ms, doubled per attempt with full jitter. @default 200 */
  baseDelayMs?: number;
}

/** One Bottleneck per operation, shared by everything that uses the same clients. */
export function createRateLimits(options: RateLimitOptions = {}): RateLimits {
  const rates = { ...DEFAULT_RATES, ...options.rates };
  const limiters = new Map<string, Bottleneck>();
  const limiterFor = (key: string) => {
    let limiter = limiters.get(key);
    if (!limiter) {
      const rate = rates[key] ?? FALLBACK_RATE;
      limiter = new Bottleneck({ minTime: Math.ceil(1000 / rate), maxConcurrent: Math.max(1, Math.ceil(rate)) });
      limiters.set(key, limiter);
    }
    return limiter;
  };
  const retries = options.throttleRetries ?? 4;
  const base = options.baseDelayMs ?? 200;
  return {
    async run<T>(key: string, call: () => Promise<T>): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await limiterFor(key).schedule(call);
        } catch (err) {
          if (!isThrottle(err) || attempt >= retries) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * base * 2 ** attempt));
        }
      }
    },
  };
}
