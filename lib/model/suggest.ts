import { z } from "zod";

/** `depends_on`, `Depends-On` and `dependsOn` all read as `dependson`: case and separators are never what a user meant to change. */
const normalise = (key: string) => key.toLowerCase().replace(/[\s_.-]+/g, "");

/** Levenshtein distance, two rows; keys are short, so nothing cleverer is needed. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known key a user most likely meant, or undefined. A key that differs only in case and
 * separators always matches; otherwise the closest key within a third of its length (at least 1,
 * at most `maxEdits`), so `computeType` finds `computeTypes` and `cpus` finds `cpu` but `foo` finds nothing.
 */
export function closestKey(key: string, known: readonly string[], maxEdits = 3): string | undefined {
  const wanted = normalise(key);
  const same = known.find((k) => normalise(k) === wanted);
  if (same) return same;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalise(candidate));
    const allowed = Math.min(maxEdits, Math.max(1, Math.floor(Math.max(wanted.length, candidate.length) / 3)));
    if (distance <= allowed && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** `unknown key "depends_on": did you mean "dependsOn"?`, or the known keys when nothing is close. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const guesses = keys.map((key) => ({ key, guess: closestKey(key, known) }));
  const knownList = known.length && guesses.some((g) => !g.guess) ? ` (known keys: ${known.join(", ")})` : "";
  if (guesses.length === 1) {
    const [{ key, guess }] = guesses;
    return guess ? `unknown key "${key}": did you mean "${guess}"?` : `unknown key "${key}"${knownList}`;
  }
  return `unknown keys ${guesses.map((g) => (g.guess ? `"${g.key}" (did you mean "${g.guess}"?)` : `"${g.key}"`)).join(", ")}${knownList}`;
}

/**
 * A per-parse zod error map: an `unrecognized_keys` issue of any strict object gets a "did you
 * mean" hint built from that object's own keys; every other issue keeps zod's message.
 */
export const keyHintErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== "unrecognized_keys") return undefined;
  const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (!shape) return undefined;
  return unknownKeysMessage(issue.keys, Object.keys(shape));
};

/**
 * For objects that let unknown keys through (the invocation carries platform fields we do not
 * read): a key one edit (or only case and separators) away from a known one is almost surely a
 * typo whose value would be silently ignored, so it is an `unrecognized_keys` issue. Other unknown
 * keys still pass.
 */
export function refuseNearMissKeys(known: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const typos = Object.keys(value).filter((key) => !known.includes(key) && closestKey(key, known, 1) !== undefined);
    if (typos.length) ctx.addIssue({ code: "unrecognized_keys", keys: typos, input: value, message: unknownKeysMessage(typos, known) });
  };
}
