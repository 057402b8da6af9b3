import { lstat, realpath } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";
import { TransferInputError, UnsafePathError } from "../../errors";
import { COMPUTE_NODE_ID_PATTERN, COMPUTE_NODE_ID_RULE, WORKFLOW_INSTANCE_ID_PATTERN, WORKFLOW_INSTANCE_ID_RULE } from "../../model/id-patterns";
import { ExecutionIds, TransferPayload } from "./contract";

/** A processor's hash names its OUTPUT_DIR (`{hash}`) and merge dir (`m_{hash}`): hex, as lib/plan/resolve.ts makes it. */
const HASH = /^[0-9a-f]{1,64}$/;

export interface GuardOptions {
  /** Where EFS is mounted (a temporary directory in tests, the local runner's `efs/`). */
  efsMountPath: string;
  /** The node this function serves: a payload naming another node is refused. @default any node */
  computeNodeId?: string;
}

/** The execution's own directories, as the payload names them and as they really are (the mount point may itself be a link). */
export interface ExecutionDirs {
  inputDir: string;
  workdir: string;
  realInputDir: string;
  realWorkdir: string;
}

export type GuardedTransfer = TransferPayload & { dirs: ExecutionDirs };

/**
 * The one check every data-transfer action passes before it touches anything, on AWS and in the
 * local runner: the ids match their patterns, and every path is exactly the directory of that
 * execution that the action may use (`{efs}/{computeNodeId}/input/{workflowInstanceId}`,
 * `…/workdir/{workflowInstanceId}`, `…/{hash}` or `…/m_{hash}` below it), written without `.`,
 * `..` or doubled separators, and reached through no symbolic link below the mount point.
 * Anything else throws a typed error naming the field; nothing has been read or written but
 * `lstat` of those directories.
 */
export async function guardTransfer(payload: TransferPayload, options: GuardOptions): Promise<GuardedTransfer> {
  checkIds(payload, options);
  const mount = resolve(options.efsMountPath);
  let realMount: string;
  try {
    realMount = await realpath(mount);
  } catch (err) {
    throw new TransferInputError(`EFS is not mounted at ${mount} (${(err as NodeJS.ErrnoException).code ?? err}): the data-transfer function cannot run`, { cause: err });
  }
  const { computeNodeId: node, workflowInstanceId: wid } = payload;
  const dirs: ExecutionDirs = {
    inputDir: join(mount, node, "input", wid),
    workdir: join(mount, node, "workdir", wid),
    realInputDir: join(realMount, node, "input", wid),
    realWorkdir: join(realMount, node, "workdir", wid),
  };
  const place = placer(mount, realMount, payload);
  switch (payload.action) {
    case "download":
      await place("targetDir", payload.targetDir, [node, "input", wid]);
      break;
    case "cleanup":
      await place("workdir", payload.workdir, [node, "workdir", wid]);
      await place("inputDir", payload.inputDir, [node, "input", wid]);
      break;
    case "merge": {
      if (payload.sources.length === 0) throw new TransferInputError(`merge for processor "${payload.processorId}" has no sources`, { field: "sources" });
      // A merge dir is m_<hash> and an OUTPUT_DIR a bare <hash>, so a source can never be the target.
      await place("targetDir", payload.targetDir, [node, "workdir", wid, (s) => s.startsWith("m_") && HASH.test(s.slice(2))], "m_<hash>");
      for (const [i, source] of payload.sources.entries()) {
        const field = `sources[${i}].dir`;
        const dir = await place(field, source.dir, [node, "workdir", wid, (s) => HASH.test(s)], "hash");
        if (!dir.exists) throw new TransferInputError(`cannot read the output of processor "${source.processorId}" at ${source.dir}: it does not exist (did the processor run?)`, { field });
      }
      break;
    }
  }
  return { ...payload, dirs };
}

function checkIds(ids: ExecutionIds, options: GuardOptions) {
  if (!COMPUTE_NODE_ID_PATTERN.test(ids.computeNodeId))
    throw new TransferInputError(`computeNodeId ${JSON.stringify(ids.computeNodeId)} is not a compute node id (${COMPUTE_NODE_ID_RULE})`, { field: "computeNodeId" });
  if (!WORKFLOW_INSTANCE_ID_PATTERN.test(ids.workflowInstanceId))
    throw new TransferInputError(`workflowInstanceId ${JSON.stringify(ids.workflowInstanceId)} is not a workflow instance id (${WORKFLOW_INSTANCE_ID_RULE})`, { field: "workflowInstanceId" });
  if (options.computeNodeId !== undefined && ids.computeNodeId !== options.computeNodeId)
    throw new UnsafePathError("computeNodeId", `"${ids.computeNodeId}" is not the node this function serves ("${options.computeNodeId}")`);
}

type Segment = string | ((segment: string) => boolean);

interface Placed {
  path: string;
  exists: boolean;
}

/**
 * Checks that `raw` is `{mount}/` followed by exactly `expected`, then walks the real directories
 * from the mount point down: an existing component must be a directory, never a link. Returns the
 * path (as given) and whether it exists.
 */
function placer(mount: string, realMount: string, payload: ExecutionIds) {
  const shape = (expected: Segment[], last = "name") => join(mount, ...expected.map((s) => (typeof s === "string" ? s : last.startsWith("m_") ? last : `<${last}>`)));
  return async (field: string, raw: string, expected: Segment[], lastDescription?: string): Promise<Placed> => {
    const wrong = (why: string) =>
      new UnsafePathError(field, `${JSON.stringify(raw)} ${why}; it must be ${shape(expected, lastDescription)} of execution "${payload.workflowInstanceId}" on node "${payload.computeNodeId}"`);
    if (!isAbsolute(raw)) throw wrong("is not an absolute path");
    if (!raw.startsWith(mount + sep)) throw wrong(`is outside the EFS mount ${mount}`);
    const segments = raw.slice(mount.length + 1).split(sep);
    if (segments.some((s) => s === "" || s === "." || s === "..")) throw wrong("has an empty, '.' or '..' segment");
    if (segments.length !== expected.length || segments.some((s, i) => (typeof expected[i] === "string" ? s !== expected[i] : !(expected[i] as (s: string) => boolean)(s))))
      throw wrong("is not that execution's directory");
    let exists = true;
    for (let i = 1; i <= segments.length; i++) {
      const component = join(realMount, ...segments.slice(0, i));
      let info;
      try {
        info = await lstat(component);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        exists = false;
        break;
      }
      if (info.isSymbolicLink()) throw wrong(`passes through a symbolic link (${component})`);
      if (!info.isDirectory()) throw wrong(`passes through ${component}, which is not a directory`);
    }
    return { path: raw, exists };
  };
}

/** Whether `path` is `root` or below it. */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}
