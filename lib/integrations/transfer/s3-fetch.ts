import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { GetObjectCommand, ListObjectsV2Command, ListObjectsV2CommandOutput, S3Client } from "@aws-sdk/client-s3";
import { TransferInputError } from "../../errors";

export type S3Sender = Pick<S3Client, "send">;

/** Splits `s3://bucket/key-or-prefix`. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new TransferInputError(`input "${uri}" is not an s3:// URI`);
  return { bucket: match[1], key: match[2] };
}

/**
 * Copies an S3 input into the input dir: a prefix (ending in `/`, or a bucket) brings every object
 * under it with its relative path, a key brings one file. Files are streamed to disk, never held
 * in memory, and an existing file is never overwritten (two inputs with the same name fail).
 */
export function s3Fetcher(s3: S3Sender) {
  return async (uri: string, targetDir: string): Promise<number> => {
    const { bucket, key } = parseS3Uri(uri);
    const root = resolve(targetDir);
    const isPrefix = key === "" || key.endsWith("/");
    const objects: { key: string; path: string }[] = [];
    if (isPrefix) {
      let token: string | undefined;
      do {
        const page: ListObjectsV2CommandOutput = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith("/")) objects.push({ key: o.Key, path: o.Key.slice(key.length) });
        token = page.NextContinuationToken;
      } while (token);
    } else objects.push({ key, path: key.split("/").pop()! });
    for (const o of objects) {
      const file = resolve(root, o.path);
      // An object key such as `a/../../etc/x` must not write outside the input dir.
      if (relative(root, file).startsWith("..") || !file.startsWith(root + sep)) throw new TransferInputError(`object s3://${bucket}/${o.key} would be written outside ${root}`);
      await mkdir(dirname(file), { recursive: true });
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
      const body = out.Body as Readable | undefined;
      if (!body) throw new TransferInputError(`object s3://${bucket}/${o.key} has no body`);
      try {
        await pipeline(body, createWriteStream(file, { flags: "wx" }));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new TransferInputError(`two inputs bring "${join(o.path)}"`, { cause: err });
        throw err;
      }
    }
    return objects.length;
  };
}
