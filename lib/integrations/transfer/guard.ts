import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { TransferInputError, UnsafePathError } from "../../errors";
import { hasBadKeySegment, isS3BucketName, isS3Destination, S3_BUCKET_RULE, splitS3Uri, URL_SCHEME } from "../../model/destination-patterns";
import { COMPUTE_NODE_ID_PATTERN, COMPUTE_NODE_ID_RULE, WORKFLOW_INSTANCE_ID_PATTERN, WORKFLOW_INSTANCE_ID_RULE } from "../../model/id-patterns";
import { ExecutionIds, TransferPayload, UploadPayload } from "./contract";

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

/** What an upload may write, beside the execution's own directories. */
export interface UploadGuardOptions {
  /** Directories a local destination may be in, compared as real paths. @default none: local destinations are refused */
  localOutputRoots?: string[];
  /** Whether this runtime has an S3 client to write `s3://` destinations with. @default false */
  s3Destinations?: boolean;
}

/** An upload's destination once checked: an S3 bucket and key prefix (empty, or ending in `/`), or a local directory. */
export type UploadTarget = { kind: "s3"; bucket: string; prefix: string; uri: string } | { kind: "local"; dir: string };

export type GuardedTransfer = (Exclude<TransferPayload, UploadPayload> | (UploadPayload & { target: UploadTarget })) & { dirs: ExecutionDirs };

/** An S3 key is at most 1,024 bytes; a destination longer than that could not name a single object, and would swell the result. */
const MAX_DESTINATION_BYTES = 1024;

/**
 * The one check every data-transfer action passes before it touches anything, on AWS and in the
 * local runner: the ids match their patterns, and every path is exactly the directory of that
 * execution that the action may use (`{efs}/{computeNodeId}/input/{workflowInstanceId}`,
 * `…/workdir/{workflowInstanceId}`, `…/{hash}` or `…/m_{hash}` below it), written without `.`,
 * `..` or doubled separators, and reached through no symbolic link below the mount point. An
 * upload's sources must be existing OUTPUT_DIRs and its destination one this runtime may write
 * (`guardDestination`). Anything else throws a typed error naming the field; nothing has been read
 * or written but `lstat` of those directories (and `realpath` of a local destination's ancestors).
 */
export async function guardTransfer(payload: TransferPayload, options: GuardOptions & UploadGuardOptions): Promise<GuardedTransfer> {
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
    case "upload": {
      await place("workdir", payload.workdir, [node, "workdir", wid]);
      if (payload.sources.length === 0) throw new TransferInputError(`upload has no sources: it needs the workflow's sink processors`, { field: "sources" });
      const seen = new Map<string, number>();
      for (const [i, source] of payload.sources.entries()) {
        checkProcessorSegment(source.processorId, `sources[${i}].processorId`);
        const earlier = seen.get(source.processorId);
        if (earlier !== undefined)
          throw new TransferInputError(`upload: sources[${earlier}] and sources[${i}] are both processor "${source.processorId}"; each sink uploads to its own <destination>/<processorId>/`, { field: `sources[${i}].processorId` });
        seen.set(source.processorId, i);
        const field = `sources[${i}].hash`;
        if (!HASH.test(source.hash)) throw new UnsafePathError(field, `${JSON.stringify(source.hash)} is not a processor hash (1–64 lowercase hex digits naming an OUTPUT_DIR)`);
        const dir = join(payload.workdir, source.hash);
        if (!(await place(field, dir, [node, "workdir", wid, (s) => HASH.test(s)], "hash")).exists)
          throw new TransferInputError(`processor "${source.processorId}"'s output dir ${dir} does not exist (did it run?)`, { field });
      }
      return { ...payload, dirs, target: await guardDestination(payload.destination, options, mount, realMount) };
    }
  }
  return { ...payload, dirs };
}

/** A processor id names one directory (one key component) of the destination: it must not climb, nest or be empty. */
function checkProcessorSegment(id: string, field: string) {
  const why =
    id === ""
      ? "is empty"
      : id === "." || id === ".."
        ? `is "${id}"`
        : /[/\\\0]/.test(id)
          ? "contains '/', '\\' or NUL"
          : Buffer.byteLength(id) > 255
            ? "is longer than 255 bytes"
            : undefined;
  if (why) throw new UnsafePathError(field, `processor id ${JSON.stringify(id)} ${why}: it names the processor's directory in the destination, so it must be one path segment`);
}

/**
 * Where an upload may write: `s3://bucket/prefix` (a valid bucket name, a prefix without empty, `.`
 * or `..` segments, normalised to end in `/`) when this runtime has an S3 client, or a local
 * directory (absolute path or `file://` URL) inside one of `localOutputRoots` and outside the EFS
 * mount, compared as real paths; a directory that does not exist yet is compared by its nearest
 * existing ancestor. Nothing is created here.
 */
async function guardDestination(raw: string, options: UploadGuardOptions, mount: string, realMount: string): Promise<UploadTarget> {
  const field = "destination";
  if (Buffer.byteLength(raw) > MAX_DESTINATION_BYTES) throw new TransferInputError(`destination is longer than ${MAX_DESTINATION_BYTES} bytes`, { field });
  if (raw.includes("\0")) throw new TransferInputError(`destination ${JSON.stringify(raw)} contains NUL`, { field });
  if (isS3Destination(raw)) {
    const { bucket, key } = splitS3Uri(raw);
    let prefix = key;
    if (!isS3BucketName(bucket)) throw new TransferInputError(`destination ${raw}: ${JSON.stringify(bucket)} is not an S3 bucket name (${S3_BUCKET_RULE})`, { field });
    if (hasBadKeySegment(prefix)) throw new UnsafePathError(field, `${raw}: the key prefix ${JSON.stringify(prefix)} has an empty ('//'), '.' or '..' segment`);
    if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
    if (!options.s3Destinations)
      throw new TransferInputError(`destination ${raw}: this runtime has no S3 client: give the local run an S3 client (LocalRunOptions.s3), or a directory destination`, { field });
    return { kind: "s3", bucket, prefix, uri: `s3://${bucket}/${prefix}` };
  }
  let local: string;
  if (raw.startsWith("file://")) {
    try {
      local = fileURLToPath(raw);
    } catch (err) {
      throw new TransferInputError(`destination ${raw} is not a local file:///absolute/path URL (${(err as NodeJS.ErrnoException).code ?? err})`, { field, cause: err });
    }
  } else if (URL_SCHEME.test(raw)) {
    throw new TransferInputError(`destination ${raw}: only s3://bucket/prefix/, file:// URLs and absolute paths are supported`, { field });
  } else if (isAbsolute(raw)) local = raw;
  else throw new UnsafePathError(field, `${JSON.stringify(raw)} is a relative path: give an absolute directory, a file:// URL or s3://bucket/prefix/`);
  const dir = resolve(local);
  const roots = options.localOutputRoots ?? [];
  if (roots.length === 0) throw new UnsafePathError(field, `${raw} is a local directory: this runtime uploads only to s3:// destinations`);
  const real = await realDestination(field, dir);
  const realRoots = await Promise.all(roots.map((root) => realpath(root).catch(() => resolve(root))));
  if (!realRoots.some((root) => isInside(root, real)))
    throw new UnsafePathError(field, `${raw} is outside ${roots.join(", ")}: this runtime uploads only there${options.s3Destinations ? " and to s3:// destinations" : ""}`);
  if (isInside(realMount, real) || isInside(real, realMount)) throw new UnsafePathError(field, `${raw} overlaps the EFS mount ${mount}: results are copied off the node, not into it`);
  return { kind: "local", dir };
}

/** The real path a directory would have: its nearest existing ancestor's real path, plus the rest. A dangling link on the way is refused. */
async function realDestination(field: string, dir: string): Promise<string> {
  const rest: string[] = [];
  for (let path = dir; ; ) {
    try {
      return join(await realpath(path), ...rest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") throw new UnsafePathError(field, `${dir} cannot be checked (${code ?? err} at ${path})`, { cause: err });
      // A link whose target is missing exists: creating the directory would follow it wherever it points.
      if (await lstat(path).then(() => true, () => false)) throw new UnsafePathError(field, `${dir} passes through ${path}, a symbolic link that does not resolve`);
      const parent = dirname(path);
      if (parent === path) throw new UnsafePathError(field, `${dir} cannot be resolved`, { cause: err });
      rest.unshift(basename(path));
      path = parent;
    }
  }
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
