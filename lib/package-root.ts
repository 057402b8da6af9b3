import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const PACKAGE_NAME = "compute-node";

/**
 * The compute-node package's root (the directory of its package.json), whether this code runs as
 * TypeScript from `lib/` or compiled from `dist/lib/`. Files that ship beside the code (the Lambda
 * handlers' sources, the policy pack, examples, schemas) are found from here, never from `__dirname`,
 * whose depth differs between the two.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (isOurPackage(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${from}`);
  }
}

/** The package's version, as `compute-node --version` prints it. */
export function packageVersion(root: string = packageRoot()): string {
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
}

function isOurPackage(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
