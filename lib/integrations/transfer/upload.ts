import { constants, createWriteStream } from "node:fs";
import { FileHandle, lstat, mkdir, open, readdir, realpath, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CompletedPart, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { TransferError, TransferInputError, UnsafePathError, UnsafeSymlinkError, UploadFailedError } from "../../errors";
import { RESULT_SAMPLE_SIZE } from "./contract";
import { isInside, UploadTarget } from "./guard";
import { S3Sender } from "./s3-fetch";

const MIB = 1024 * 1024;
/** S3 allows at most this many parts in one multipart upload. */
const MAX_PARTS = 10_000;
/** The sample of uploaded names stops here too, however long the names (a task result must stay under 256 KiB). */
const SAMPLE_MAX_BYTES = 48 * 1024;

export { UploadFailedError };

export interface UploadTuning {
  /** Files larger than this go by multipart upload. @default 64 MiB */
  multipartThresholdBytes?: number;
  /** A multipart upload's part size, raised to `ceil(size / 10000)` for files that would need more parts. S3 refuses parts under 5 MiB but the last. @default 64 MiB */
  partSizeBytes?: number;
  /** How many files are uploaded at once. @default 8 */
  concurrency?: number;
}

export interface UploadOutputsOptions {
  /** The checked destination (guard.ts `guardDestination`). */
  target: UploadTarget;
  /** The sink processors and their OUTPUT_DIRs, as real paths (the guard has checked no link leads to them). */
  sources: { processorId: string; dir: string }[];
  /** The real paths of the execution's own directories: the only places a link in an output may lead. */
  execution: { workdir: string; inputDir: string };
  /** Required for an S3 target. */
  s3?: S3Sender;
  tuning?: UploadTuning;
}

export interface UploadedProcessor {
  processorId: string;
  /** `<destination><processorId>/` */
  destination: string;
  files: number;
  bytes: number;
}

/** What the upload answers: counts and bounded samples, whatever the number of files and sinks. */
export interface UploadResult {
  /** Normalised: `s3://bucket/prefix/` or the resolved local directory. */
  destination: string;
  files: number;
  bytes: number;
  /** Entries not uploaded: FIFOs, sockets and devices (never opened), and links back to a directory being walked (cycles). */
  skipped: number;
  processorCount: number;
  /** The first RESULT_SAMPLE_SIZE sinks, in the payload's order. */
  processors: UploadedProcessor[];
  /** The first uploaded objects in walk order (sources in order, names sorted), as s3:// URIs or local paths: at most RESULT_SAMPLE_SIZE. */
  sample: string[];
}

/** One regular file to upload: `rel` is its posix path below the processor's part of the destination, `path` a path with no link in it. */
interface Item {
  source: number;
  rel: string;
  path: string;
}

/** Writes one opened file; `size` is what is read of it. */
type Writer = (item: Item, processorId: string, file: FileHandle, size: number) => Promise<void>;

/**
 * Copies every file of each sink's OUTPUT_DIR to `<destination><processorId>/<relative path>`.
 * Every output is walked before anything is written, so a link leaving the execution fails with
 * `UnsafeSymlink` and nothing of the run is uploaded; nothing outside the execution's workdir and
 * input dir is ever opened. A link inside them is followed (a file is uploaded under the link's
 * name, a directory is walked; a link back to a directory being walked is skipped, so cycles end).
 * FIFOs, sockets and devices are never opened. Existing objects or files of the same name are
 * replaced, like `aws s3 cp`; a local file is written to a temporary file beside it and renamed
 * over it, so a link planted there is replaced, never followed.
 */
export async function uploadOutputs(options: UploadOutputsOptions): Promise<UploadResult> {
  const { target } = options;
  const tuning = {
    multipartThresholdBytes: atLeast(options.tuning?.multipartThresholdBytes, 0, 64 * MIB),
    partSizeBytes: atLeast(options.tuning?.partSizeBytes, 1, 64 * MIB),
    concurrency: Math.floor(atLeast(options.tuning?.concurrency, 1, 8)),
  };
  const destination = target.kind === "s3" ? target.uri : target.dir;
  const processorDestination = (processorId: string) => (target.kind === "s3" ? `${target.uri}${processorId}/` : `${join(target.dir, processorId)}/`);
  const locationOf = (item: Item) => (target.kind === "s3" ? `${target.uri}${options.sources[item.source].processorId}/${item.rel}` : join(target.dir, options.sources[item.source].processorId, ...item.rel.split("/")));

  let skipped = 0;
  const items: Item[] = [];
  for (const [source, { processorId, dir }] of options.sources.entries()) {
    const walked = await walkOutput(processorId, dir, options.execution);
    skipped += walked.skipped;
    items.push(...walked.files.map((f) => ({ source, ...f })));
  }

  let write: Writer;
  if (target.kind === "s3") {
    if (!options.s3) throw new TransferInputError(`destination ${target.uri}: this runtime has no S3 client`, { field: "destination" });
    write = s3Writer(options.s3, target, tuning, locationOf);
  } else write = await localWriter(target.dir, locationOf);

  const files = options.sources.map(() => 0);
  const bytes = options.sources.map(() => 0);
  const uploaded = new Array<boolean>(items.length).fill(false);
  await pool(items, tuning.concurrency, async (item, i) => {
    const { processorId } = options.sources[item.source];
    const file = await openRegular(processorId, item);
    if (!file) {
      skipped++;
      return;
    }
    try {
      await write(item, processorId, file.handle, file.size);
    } finally {
      await file.handle.close();
    }
    uploaded[i] = true;
    files[item.source]++;
    bytes[item.source] += file.size;
  });

  const sample: string[] = [];
  let sampleBytes = 0;
  for (const [i, item] of items.entries()) {
    if (sample.length === RESULT_SAMPLE_SIZE) break;
    if (!uploaded[i]) continue;
    const location = locationOf(item);
    if ((sampleBytes += Buffer.byteLength(location)) > SAMPLE_MAX_BYTES) break;
    sample.push(location);
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    destination,
    files: sum(files),
    bytes: sum(bytes),
    skipped,
    processorCount: options.sources.length,
    processors: options.sources.slice(0, RESULT_SAMPLE_SIZE).map(({ processorId }, i) => ({ processorId, destination: processorDestination(processorId), files: files[i], bytes: bytes[i] })),
    sample,
  };
}

function atLeast(value: number | undefined, min: number, fallback: number): number {
  return value === undefined || !Number.isFinite(value) ? fallback : Math.max(min, value);
}

/**
 * The regular files of one OUTPUT_DIR, in sorted order. Links are resolved and must stay in the
 * execution; a directory reached again below itself (through a link) is not walked twice.
 */
async function walkOutput(processorId: string, root: string, execution: { workdir: string; inputDir: string }): Promise<{ files: { rel: string; path: string }[]; skipped: number }> {
  const files: { rel: string; path: string }[] = [];
  let skipped = 0;
  const walking = new Set<string>([root]);
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const unreadable = (rel: string, err: unknown) =>
      new TransferInputError(`cannot read the output of processor "${processorId}"${rel ? ` at "${rel}"` : ""}: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      throw unreadable(prefix, err);
    }
    for (const name of names) {
      const rel = prefix ? `${prefix}/${name}` : name;
      let path = join(dir, name);
      let info = await lstat(path).catch((err: unknown) => {
        throw unreadable(rel, err);
      });
      if (info.isSymbolicLink()) {
        path = await followLink(processorId, rel, path, execution);
        // `path` is a real path: stat and lstat agree on it.
        info = await lstat(path);
      }
      if (info.isDirectory()) {
        if (walking.has(path)) {
          skipped++;
          continue;
        }
        walking.add(path);
        await visit(path, rel);
        walking.delete(path);
      } else if (info.isFile()) files.push({ rel, path });
      else skipped++;
    }
  };
  await visit(root, "");
  return { files, skipped };
}

/** The real path a link of an output leads to; it must be inside the execution's workdir or input dir. Nothing is opened. */
async function followLink(processorId: string, rel: string, path: string, execution: { workdir: string; inputDir: string }): Promise<string> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch {
    throw new UnsafeSymlinkError(`cannot upload the outputs of processor "${processorId}": "${rel}" is a symbolic link that does not resolve; write the file itself, or a link to a file of this execution`, { processorId, file: rel });
  }
  if (!isInside(execution.workdir, resolved) && !isInside(execution.inputDir, resolved))
    throw new UnsafeSymlinkError(
      `cannot upload the outputs of processor "${processorId}": "${rel}" is a symbolic link to ${resolved}, outside this execution's workdir and input; write the file itself, or a link to a file of this execution`,
      { processorId, file: rel },
    );
  return resolved;
}

/**
 * Opens a walked file without following a link and without blocking (a FIFO swapped in since the
 * walk would hang a plain open), and checks it is still a regular file; undefined if it is not.
 */
async function openRegular(processorId: string, item: Item): Promise<{ handle: FileHandle; size: number } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(item.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new UnsafeSymlinkError(`cannot upload the outputs of processor "${processorId}": "${item.rel}" became a symbolic link during the upload`, { processorId, file: item.rel });
    throw new TransferInputError(`cannot read output "${item.rel}" of processor "${processorId}": ${code ?? err}`, { cause: err });
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    return undefined;
  }
  return { handle, size: info.size };
}

const CHUNK_BYTES = MIB;

/**
 * `length` bytes of an open file from `start`. Hand-written because a FileHandle's own read stream
 * closes the handle when destroyed, whatever `autoClose` says, and a multipart upload reads one
 * handle part by part. Destroying it leaves the handle open; the caller closes it.
 */
function rangeStream(file: FileHandle, start: number, length: number, rel: string): Readable {
  let position = start;
  const end = start + length;
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (position >= end) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK_BYTES, end - position);
      file.read(Buffer.allocUnsafe(size), 0, size, position).then(
        ({ bytesRead, buffer }) => {
          if (bytesRead === 0) return this.destroy(new Error(`"${rel}" became shorter while it was uploaded`));
          position += bytesRead;
          this.push(bytesRead === size ? buffer : buffer.subarray(0, bytesRead));
        },
        (err: unknown) => this.destroy(err as Error),
      );
    },
  });
}

/** Runs `run` over the items, at most `limit` at once. After a failure no new item starts; the first error is thrown once the running ones have settled. */
async function pool<T>(items: T[], limit: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        await run(items[i], i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

function s3Writer(s3: S3Sender, target: UploadTarget & { kind: "s3" }, tuning: Required<UploadTuning>, locationOf: (item: Item) => string): Writer {
  const { bucket } = target;
  return async (item, processorId, file, size) => {
    const key = `${target.prefix}${processorId}/${item.rel}`;
    const fail = (err: unknown, also = "") => s3Failure(err, { processorId, bucket, uri: locationOf(item), also });
    // Each body is a bounded read of the open file; a stream the SDK gives up on is destroyed here, before the file is closed.
    // The SDK does not retry a request whose body is a stream; the body is re-read from the file here instead.
    const range = <R>(start: number, length: number, send: (body: Readable | Uint8Array) => Promise<R>): Promise<R> =>
      retryTransient(async () => {
        if (length === 0) return send(new Uint8Array(0));
        const body = rangeStream(file, start, length, item.rel);
        try {
          return await send(body);
        } finally {
          body.destroy();
        }
      });
    if (size <= tuning.multipartThresholdBytes) {
      try {
        await range(0, size, (Body) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body, ContentLength: size })));
      } catch (err) {
        throw fail(err);
      }
      return;
    }
    const partSize = Math.max(tuning.partSizeBytes, Math.ceil(size / MAX_PARTS));
    let uploadId: string | undefined;
    try {
      uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: "CRC32" }))).UploadId;
      if (!uploadId) throw new Error("CreateMultipartUpload answered no UploadId");
      const parts: CompletedPart[] = [];
      for (let start = 0, PartNumber = 1; start < size; start += partSize, PartNumber++) {
        const length = Math.min(partSize, size - start);
        const out = await range(start, length, (Body) => s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body, ContentLength: length, ChecksumAlgorithm: "CRC32" })));
        parts.push({ PartNumber, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
      }
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      // No incomplete upload may be left behind: S3 would keep (and bill) its parts.
      let also = "";
      if (uploadId)
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch((abortErr: unknown) => {
          also = `; aborting the multipart upload ${uploadId} failed too (${errorName(abortErr)}): a lifecycle rule with AbortIncompleteMultipartUpload removes it`;
        });
      throw fail(err, also);
    }
  };
}

/** Attempts of one PutObject or UploadPart that S3 answered with a transient error (throttling, 5xx, a dropped connection). */
const S3_ATTEMPTS = 3;
const TRANSIENT_S3_ERRORS = new Set(["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "ThrottlingException", "TimeoutError", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

async function retryTransient<R>(run: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      const transient = (err as { $retryable?: unknown }).$retryable !== undefined || status >= 500 || TRANSIENT_S3_ERRORS.has(errorName(err));
      if (!transient || attempt === S3_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** (attempt - 1)));
    }
  }
}

function errorName(err: unknown): string {
  const e = err as { name?: string; code?: string };
  return e.name && e.name !== "Error" ? e.name : (e.code ?? e.name ?? "Error");
}

/** An S3 refusal as an UploadFailed naming the object and the S3 error, with what to do about the common ones. */
function s3Failure(err: unknown, where: { processorId: string; bucket: string; uri: string; also: string }): UploadFailedError {
  const name = errorName(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const hint =
    name === "AccessDenied" || status === 403
      ? `: the node may not write to bucket "${where.bucket}"; add arn:aws:s3:::${where.bucket} to the node's outputBucketArns and run \`compute-node node up\``
      : name === "NoSuchBucket"
        ? `: bucket "${where.bucket}" does not exist`
        : "";
  return new UploadFailedError(`cannot upload output of processor "${where.processorId}" to ${where.uri}: S3 answered ${name}${status ? ` (HTTP ${status})` : ""}${hint}${where.also}`, {
    processorId: where.processorId,
    destination: where.uri,
    s3Error: name,
    cause: err,
  });
}

/**
 * Writes below a local directory. Directories on the way are created; an existing one must be a
 * real directory (a link there would lead the upload out of the checked destination).
 */
async function localWriter(root: string, locationOf: (item: Item) => string): Promise<Writer> {
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw new UploadFailedError(`cannot create the destination directory ${root}: ${(err as NodeJS.ErrnoException).code ?? err}`, { destination: root, cause: err });
  }
  const dirs = new Map<string, Promise<void>>();
  const ensureDir = (segments: string[]): Promise<void> => {
    const path = join(root, ...segments);
    let made = dirs.get(path);
    if (!made) {
      made = (async () => {
        if (segments.length > 1) await ensureDir(segments.slice(0, -1));
        await mkdir(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "EEXIST") throw err;
        });
        const info = await lstat(path);
        if (!info.isDirectory()) throw new UnsafePathError("destination", `${path} is ${info.isSymbolicLink() ? "a symbolic link" : "not a directory"}: the upload writes only into real directories below ${root}`);
      })();
      dirs.set(path, made);
    }
    return made;
  };
  return async (item, processorId, file, size) => {
    const segments = [processorId, ...item.rel.split("/")];
    const to = locationOf(item);
    const tmp = join(root, ...segments.slice(0, -1), `.cn-upload-${randomBytes(8).toString("hex")}`);
    try {
      await ensureDir(segments.slice(0, -1));
      // "wx": a fresh file; O_EXCL never follows a link.
      const out = createWriteStream(tmp, { flags: "wx" });
      await pipeline(rangeStream(file, 0, size, item.rel), out);
      // rename replaces whatever has the name, a link included, without following it.
      await rename(tmp, to);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (err instanceof TransferError) throw err;
      throw new UploadFailedError(`cannot write output "${item.rel}" of processor "${processorId}" to ${to}: ${(err as NodeJS.ErrnoException).code ?? err}`, { processorId, destination: to, cause: err });
    }
  };
}

