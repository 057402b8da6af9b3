import { lstat, mkdir, readdir, rm, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { MergeCollisionError, TransferInputError } from "../../errors";

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
}

export interface MergeInputsResult {
  targetDir: string;
  /** Entry name → the upstream processor it came from. */
  entries: Record<string, string>;
}

/**
 * Builds a processor's merged INPUT_DIR: one symlink per top-level entry of each upstream OUTPUT_DIR
 * (processor-guide "How Merges Work"). Symlinks cost no storage whatever the file size.
 * Every name is checked before anything is created, so a collision leaves no half-built directory.
 * Running it again (a retry) rebuilds the directory from scratch.
 */
export async function mergeInputs(options: MergeInputsOptions): Promise<MergeInputsResult> {
  if (options.sources.length === 0) throw new TransferInputError(`merge for processor "${options.processorId}" has no sources`);
  const targetDir = resolve(options.targetDir);
  const owner = new Map<string, string>();
  const plan: { name: string; target: string }[] = [];
  for (const source of options.sources) {
    const dir = resolve(source.dir);
    if (dir === targetDir) throw new TransferInputError(`merge for processor "${options.processorId}" lists its own target ${targetDir} as a source`);
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
      plan.push({ name, target: join(dir, name) });
    }
  }
  await rm(targetDir, { recursive: true, force: true });
  await mkdir(targetDir, { recursive: true });
  for (const { name, target } of plan) {
    const stat = await lstat(target);
    await symlink(target, join(targetDir, name), stat.isDirectory() ? "dir" : "file");
  }
  return { targetDir, entries: Object.fromEntries(owner) };
}
