import { lstat, mkdir, readdir, realpath, rm, symlink } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { MergeCollisionError, TransferInputError, UnsafeSymlinkError } from "../../errors";
import { RESULT_SAMPLE_SIZE } from "./contract";
import { isInside } from "./guard";

export interface MergeSource {
  processorId: string;
  /** The upstream processor's OUTPUT_DIR. */
  dir: string;
}

export interface MergeInputsOptions {
  /** The processor whose INPUT_DIR is built. */
  processorId: string;
  /** The merged directory (`…/workdir/{workflowInstanceId}/m_{hash}`). */
  targetDir: string;
  sources: MergeSource[];
  /**
   * The real paths of the execution's own directories, where a merged symbolic link may lead: its
   * input dir, or a processor OUTPUT_DIR of its workdir (not the workdir itself, nor a merge dir).
   * @default the parent of targetDir as the workdir, no input dir
   */
  execution?: { workdir: string; inputDir?: string };
}

export interface MergeInputsResult {
  targetDir: string;
  /** How many entries the merged directory holds. */
  entries: number;
  /** How many upstream outputs were merged. */
  sources: number;
  /** The first entries in name order with the upstream processor each came from: at most RESULT_SAMPLE_SIZE, whatever the fan-in. */
  sample: { name: string; from: string }[];
}

/**
 * Builds a processor's merged INPUT_DIR: one symlink per top-level entry of each upstream OUTPUT_DIR
 * (processor-guide "How Merges Work"). Symlinks cost no storage whatever the file size.
 * Every entry is checked before anything is created, so a collision, or an upstream link that
 * leaves the execution's own directories, leaves no half-built directory. Running it again (a
 * retry) rebuilds the directory from scratch. The result is counts and a bounded sample, never
 * every name: a task result must stay under 256 KiB.
 */
export async function mergeInputs(options: MergeInputsOptions): Promise<MergeInputsResult> {
  if (options.sources.length === 0) throw new TransferInputError(`merge for processor "${options.processorId}" has no sources`, { field: "sources" });
  const targetDir = resolve(options.targetDir);
  const parent = resolve(targetDir, "..");
  const execution = options.execution ?? { workdir: await realpath(parent).catch(() => parent) };
  const owner = new Map<string, string>();
  const plan: { name: string; target: string; isDirectory: boolean }[] = [];
  for (const source of options.sources) {
    const dir = resolve(source.dir);
    if (dir === targetDir) throw new TransferInputError(`merge for processor "${options.processorId}" lists its own target ${targetDir} as a source`, { field: "sources" });
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new TransferInputError(`cannot read the output of processor "${source.processorId}" at ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
    }
    for (const name of names.sort()) {
      const first = owner.get(name);
      if (first !== undefined) throw new MergeCollisionError(options.processorId, name, [first, source.processorId]);
      owner.set(name, source.processorId);
      const target = join(dir, name);
      plan.push({ name, target, isDirectory: await checkedEntry(options.processorId, source.processorId, name, target, execution) });
    }
  }
  await rm(targetDir, { recursive: true, force: true });
  await mkdir(targetDir, { recursive: true });
  for (const { name, target, isDirectory } of plan) await symlink(target, join(targetDir, name), isDirectory ? "dir" : "file");
  const sample = [...owner.keys()].sort().slice(0, RESULT_SAMPLE_SIZE).map((name) => ({ name, from: owner.get(name)! }));
  return { targetDir, entries: owner.size, sources: options.sources.length, sample };
}

/** Whether the entry is a directory; a link must lead into the execution's data, or the merge fails with UnsafeSymlink. */
async function checkedEntry(mergingProcessorId: string, producerId: string, name: string, path: string, execution: { workdir: string; inputDir?: string }): Promise<boolean> {
  const info = await lstat(path);
  if (!info.isSymbolicLink()) return info.isDirectory();
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch {
    throw new UnsafeSymlinkError(
      `cannot merge inputs of processor "${mergingProcessorId}": output "${name}" of processor "${producerId}" is a symbolic link that does not resolve; write the file itself, or a link to a file in this execution's directories`,
      { processorId: producerId, file: name },
    );
  }
  if (!leadsIntoData(execution, resolved))
    throw new UnsafeSymlinkError(
      `cannot merge inputs of processor "${mergingProcessorId}": output "${name}" of processor "${producerId}" is a symbolic link to ${resolved}, which is neither in this execution's input nor in one processor's output; write the file itself, or a link to a file of this execution`,
      { processorId: producerId, file: name },
    );
  return (await lstat(resolved)).isDirectory();
}

/**
 * Inside the input dir, or inside one processor's OUTPUT_DIR. The workdir itself (`..` from an
 * output) would hand the next processor every output and merge dir, loops included, and a merge
 * dir holds only links that cleanup removes.
 */
function leadsIntoData(execution: { workdir: string; inputDir?: string }, resolved: string): boolean {
  if (execution.inputDir !== undefined && isInside(execution.inputDir, resolved)) return true;
  if (resolved === execution.workdir || !isInside(execution.workdir, resolved)) return false;
  return !relative(execution.workdir, resolved).split(sep)[0].startsWith("m_");
}
