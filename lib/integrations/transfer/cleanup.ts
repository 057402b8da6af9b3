import { lstat, readdir, rm } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { TransferInputError } from "../../errors";
import { RESULT_SAMPLE_SIZE } from "./contract";

export interface CleanupOptions {
  workflowInstanceId: string;
  /** The execution's work dir, `…/workdir/{workflowInstanceId}`: its `m_*` merge dirs are removed. */
  workdir: string;
  /** The execution's downloaded input, `…/input/{workflowInstanceId}`: removed. */
  inputDir: string;
}

export interface CleanupResult {
  /** How many directories were removed (merge dirs and the input dir). */
  removed: number;
  /** The first of them, at most RESULT_SAMPLE_SIZE: the result stays small whatever the number of processors. */
  sample: string[];
}

// Merge dirs are `m_` + a hex processor hash; OUTPUT_DIRs are the bare hash and never match.
const MERGE_DIR = /^m_[0-9a-f]+$/;

/**
 * Removes what an execution no longer needs: merge dirs and the downloaded input. Processor
 * OUTPUT_DIRs are results and are never touched. The data-transfer guard has checked both paths;
 * they must still end with the workflow instance id (under `workdir/` and `input/`), so a wrong
 * caller cannot delete anything else. An `m_*` entry that is not a real directory (a link a
 * processor left) is not followed.
 */
export async function cleanupExecution(options: CleanupOptions): Promise<CleanupResult> {
  const id = options.workflowInstanceId;
  const workdir = resolve(options.workdir);
  const inputDir = resolve(options.inputDir);
  if (!id || id.includes("/") || id === "." || id === "..") throw new TransferInputError(`cleanup: workflowInstanceId "${id}" is not a valid id`, { field: "workflowInstanceId" });
  if (basename(workdir) !== id || basename(dirname(workdir)) !== "workdir")
    throw new TransferInputError(`cleanup refused: workdir ${workdir} is not …/workdir/${id}`, { field: "workdir" });
  if (basename(inputDir) !== id || basename(dirname(inputDir)) !== "input")
    throw new TransferInputError(`cleanup refused: inputDir ${inputDir} is not …/input/${id}`, { field: "inputDir" });
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = await readdir(workdir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  for (const name of names.filter((n) => MERGE_DIR.test(n)).sort()) {
    const path = resolve(workdir, name);
    // rm never follows a link, but a link named like a merge dir is not ours to remove either.
    if (!(await lstat(path)).isDirectory()) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  await rm(inputDir, { recursive: true, force: true });
  removed.push(inputDir);
  return { removed: removed.length, sample: removed.slice(0, RESULT_SAMPLE_SIZE) };
}
