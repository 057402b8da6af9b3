/**
 * Where time comes from. Business logic takes a clock (an option named `now`) so tests pin time
 * instead of sleeping; entry points (the CLI, the service, Lambda handlers) leave it to default to
 * {@link systemClock}. Dependency-free: Lambda bundles include it.
 */
export type Clock = () => Date;

/** The wall clock: the one `new Date()` that business logic reaches. */
export const systemClock: Clock = () => new Date();

/** Milliseconds since the epoch by a clock, for deadlines and durations. */
export const epochMs = (clock: Clock): number => clock().getTime();
