import { readdir, rm } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { TransferInputError } from "../../errors";

export interface CleanupOptions {
  workflowInstanceId: string;
  /** The execution's work dir, `…/workdir/{workflowInstanceId}`: its `m_*` merge dirs are removed. */
  workdir: string;
  /** The execution's downloaded input, `…/input/{workflowInstanceId}`: removed. */
  inputDir: string;
}

export interface CleanupResult {
  removed: string[];
}

// Merge dirs are `m_` + a hex processor hash; OUTPUT_DIRs are the bare hash and never match.
const MERGE_DIR = /^m_[0-9a-f]+$/;

/**
 * Removes what an execution no longer needs: merge dirs and the downloaded input. Processor
 * OUTPUT_DIRs are results and are never touched. Both paths must end with the workflow instance id
 * (under `workdir/` and `input/`), so a wrong payload cannot delete anything else.
 */
export async function cleanupExecution(options: CleanupOptions): Promise<CleanupResult> {
  const id = options.workflowInstanceId;
  const workdir = resolve(options.workdir);
  const inputDir = resolve(options.inputDir);
  if (!id || id.includes("/") || id === "." || id === "..") throw new TransferInputError(`cleanup: workflowInstanceId "${id}" is not a valid id`);
  if (basename(workdir) !== id || basename(dirname(workdir)) !== "workdir")
    throw new TransferInputError(`cleanup refused: workdir ${workdir} is not …/workdir/${id}`);
  if (basename(inputDir) !== id || basename(dirname(inputDir)) !== "input")
    throw new TransferInputError(`cleanup refused: inputDir ${inputDir} is not …/input/${id}`);
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(workdir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const name of names.filter((n) => MERGE_DIR.test(n)).sort()) {
    const path = resolve(workdir, name);
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  await rm(inputDir, { recursive: true, force: true });
  removed.push(inputDir);
  return { removed };
}
