/**
 * Where a processor's directories are, as JSONPath-mode values. Initialize puts the input dir and the
 * instance workdir in `$.ctx`; a processor adds its hash, either known at compile time or, inside a
 * Map iteration, read from the item (`$.p.h`).
 */
export type HashRef = { literal: string } | { path: string };

export function outputDirValue(hash: HashRef): string {
  return "literal" in hash ? `States.Format('{}/${hash.literal}', $.ctx.workdir)` : `States.Format('{}/{}', $.ctx.workdir, ${hash.path})`;
}

export function mergeDirValue(hash: HashRef): string {
  return "literal" in hash ? `States.Format('{}/m_${hash.literal}', $.ctx.workdir)` : `States.Format('{}/m_{}', $.ctx.workdir, ${hash.path})`;
}

/** INPUT_DIR by the seed's rule: downloaded input, the one upstream OUTPUT_DIR, or the merged dir. */
export function inputDirValue(dependencyHashes: string[], own: HashRef): string {
  if (dependencyHashes.length === 0) return "$.ctx.inputDir";
  if (dependencyHashes.length === 1) return outputDirValue({ literal: dependencyHashes[0] });
  return mergeDirValue(own);
}

/** Escapes text for a literal inside an intrinsic function's quoted string argument. */
export function intrinsicLiteral(text: string): string {
  return text.replace(/[\\'{}]/g, (c) => `\\${c}`);
}
