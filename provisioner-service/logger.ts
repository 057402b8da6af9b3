import { Clock, systemClock } from "../lib/clock";

/** Structured JSON logs: one object per line, never a header, body or token. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line), now: Clock = systemClock): Logger {
  const log = (level: string) => (message: string, fields: Record<string, unknown> = {}) =>
    write(JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields }) + "\n");
  return { info: log("info"), warn: log("warn"), error: log("error") };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** An error as a log field: name, message, code and stack; never the `cause` chain's data. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: { name: err.name, message: err.message, code: (err as { code?: unknown }).code, stack: err.stack } };
  return { error: { message: String(err) } };
}
