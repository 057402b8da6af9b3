import { cp, mkdir, readdir, stat } from "node:fs/promises";
import { basename, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TransferInputError } from "../../errors";

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
 */
export async function downloadInputs(options: DownloadInputsOptions): Promise<DownloadInputsResult> {
  const targetDir = resolve(options.targetDir);
  await mkdir(targetDir, { recursive: true });
  const seen = new Map<string, string>();
  let copied = 0;
  for (const input of options.inputs) {
    const local = localPath(input);
    if (local === undefined) {
      if (!options.fetchRemote) throw new TransferInputError(`input "${input}" is not a local path and this runtime cannot fetch remote inputs`);
      copied += await options.fetchRemote(input, targetDir);
      continue;
    }
    let info;
    try {
      info = await stat(local);
    } catch (err) {
      throw new TransferInputError(`input "${input}" cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
    }
    const entries = info.isDirectory() ? (await readdir(local)).sort().map((name) => ({ name, from: join(local, name) })) : [{ name: basename(local), from: local }];
    for (const { name, from } of entries) {
      const earlier = seen.get(name);
      if (earlier !== undefined) throw new TransferInputError(`inputs "${earlier}" and "${input}" both contain "${name}"`);
      seen.set(name, input);
      await cp(from, join(targetDir, name), { recursive: true, errorOnExist: true, force: false, dereference: true });
      copied++;
    }
  }
  return { targetDir, copied };
}

function localPath(input: string): string | undefined {
  if (input.startsWith("file://")) return fileURLToPath(input);
  if (isAbsolute(input)) return input;
  return undefined;
}
