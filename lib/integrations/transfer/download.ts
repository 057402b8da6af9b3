import { constants } from "node:fs";
import { copyFile, lstat, mkdir, readdir, realpath, stat, symlink } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TransferInputError, UnsafeSymlinkError } from "../../errors";
import { isInside } from "./guard";

/** Copies one remote input (e.g. `s3://bucket/prefix/`) into a directory; the AWS handler supplies it. */
export type RemoteFetcher = (uri: string, targetDir: string) => Promise<number>;

export interface DownloadInputsOptions {
  /** The execution's input dir (`{efs}/{computeNodeId}/input/{workflowInstanceId}`). */
  targetDir: string;
  /** Local paths, `file://` URLs, or remote URIs handled by `fetchRemote`. A directory contributes its contents. */
  inputs: string[];
  fetchRemote?: RemoteFetcher;
}

export interface DownloadInputsResult {
  targetDir: string;
  /** Number of top-level entries (local) or objects (remote) copied. */
  copied: number;
}

/**
 * Fills the execution's input dir. Local inputs are copied (not linked) so a processor can never
 * modify the caller's originals; two inputs that bring the same top-level name are refused.
 * Symbolic links inside a local input are never followed out of it: a link that resolves inside
 * the input is copied as a relative link to the copy, any other fails with UnsafeSymlink (a link
 * to `~/.ssh` must not land where processors read). An input path that is itself a link is
 * followed: the caller named it.
 */
export async function downloadInputs(options: DownloadInputsOptions): Promise<DownloadInputsResult> {
  const targetDir = resolve(options.targetDir);
  await mkdir(targetDir, { recursive: true });
  const seen = new Map<string, string>();
  let copied = 0;
  for (const input of options.inputs) {
    const local = localInputPath(input);
    if (local === undefined) {
      if (!options.fetchRemote) throw new TransferInputError(`input "${input}" is not a local path and this runtime cannot fetch remote inputs`, { field: "inputs" });
      copied += await options.fetchRemote(input, targetDir);
      continue;
    }
    let real: string;
    let isDirectory: boolean;
    try {
      real = await realpath(local);
      isDirectory = (await stat(real)).isDirectory();
    } catch (err) {
      throw new TransferInputError(`input "${input}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err, field: "inputs" });
    }
    const root = isDirectory ? real : dirname(real);
    const entries = isDirectory ? (await readdir(real)).sort().map((name) => ({ name, from: join(real, name) })) : [{ name: basename(local), from: real }];
    for (const { name, from } of entries) {
      const earlier = seen.get(name);
      if (earlier !== undefined) throw new TransferInputError(`inputs "${earlier}" and "${input}" both contain "${name}"`, { field: "inputs" });
      seen.set(name, input);
      await copyEntry(root, from, join(targetDir, name), name);
      copied++;
    }
  }
  return { targetDir, copied };
}

/** Copies one entry of an input whose real root is `root`; `from` is a real path (the walk never enters a link). */
async function copyEntry(root: string, from: string, to: string, shown: string): Promise<void> {
  const info = await lstat(from);
  if (info.isSymbolicLink()) {
    let target: string;
    try {
      target = await realpath(from);
    } catch {
      throw new UnsafeSymlinkError(`input entry "${shown}" is a symbolic link that does not resolve; copy the file itself into the input`, { file: shown });
    }
    if (!isInside(root, target))
      throw new UnsafeSymlinkError(`input entry "${shown}" is a symbolic link to ${target}, outside the input ${root}; copy the file itself into the input instead of linking to it`, { file: shown });
    await symlink(relative(dirname(from), target) || ".", to);
    return;
  }
  if (info.isDirectory()) {
    await mkdir(to);
    for (const name of (await readdir(from)).sort()) await copyEntry(root, join(from, name), join(to, name), `${shown}/${name}`);
    return;
  }
  if (info.isFile()) {
    await copyFile(from, to, constants.COPYFILE_EXCL);
    return;
  }
  throw new TransferInputError(`input entry "${shown}" is neither a file, a directory nor a link (a socket, FIFO or device): it cannot be copied`, { field: "inputs" });
}

/** The local path an input names, or undefined for a remote URI. */
export function localInputPath(input: string): string | undefined {
  if (input.startsWith("file://")) return fileURLToPath(input);
  if (isAbsolute(input)) return input;
  return undefined;
}
