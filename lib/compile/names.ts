import { createHash } from "node:crypto";

/** Step Functions caps state names at 80 characters; names must be unique machine-wide. */
export const MAX_STATE_NAME = 80;

/** Letters, digits, space and `_-.:` only: safe in the console, CloudWatch metrics and X-Ray. */
const ALLOWED = /[^A-Za-z0-9 _.:-]+/g;
export const STATE_NAME_PATTERN = /^[A-Za-z0-9 _.:-]{1,80}$/;

const shortHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 10);

/**
 * Hands out state names `<kind> <label>`, deterministic for a given order of requests. A label that
 * has other characters, is too long or collides is shortened and suffixed with a hash of the
 * original, so two processors whose ids share an 80-character prefix still get different names.
 */
export class StateNames {
  private readonly used = new Set<string>();

  /** Claims a fixed name (envelope states); throws if it is taken or invalid. */
  reserve(name: string): string {
    if (!STATE_NAME_PATTERN.test(name)) throw new Error(`internal: "${name}" is not a valid state name`);
    if (this.used.has(name)) throw new Error(`internal: state name "${name}" is already used`);
    this.used.add(name);
    return name;
  }

  name(kind: string, label: string): string {
    const clean = label.replace(ALLOWED, "_").trim();
    const plain = `${kind} ${clean}`;
    if (clean === label && plain.length <= MAX_STATE_NAME && !this.used.has(plain)) return this.claim(plain);
    const suffix = `~${shortHash(`${kind}\u0000${label}`)}`.replace("~", "_");
    const room = MAX_STATE_NAME - kind.length - 1 - suffix.length;
    let candidate = `${kind} ${clean.slice(0, room)}${suffix}`;
    for (let n = 2; this.used.has(candidate); n++) candidate = `${kind} ${clean.slice(0, room - String(n).length - 1)}${suffix}_${n}`;
    return this.claim(candidate);
  }

  has(name: string): boolean {
    return this.used.has(name);
  }

  private claim(name: string): string {
    this.used.add(name);
    return name;
  }
}
