// No imports, so the dependency-free data-transfer guard checks an upload destination by the same rules as the model (lib/model/invocation.ts).

/** An S3 bucket name as virtual-hosted style allows it (a `..` inside is refused separately, by {@link isS3BucketName}). */
const S3_BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export const S3_BUCKET_RULE = "3–63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit";

export function isS3BucketName(bucket: string): boolean {
  return S3_BUCKET_PATTERN.test(bucket) && !bucket.includes("..");
}

/** `scheme://…`: a URL rather than a path. */
export const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** Whether an S3 key prefix (with or without its trailing `/`; empty for a whole bucket) has an empty (`//`), `.` or `..` segment. */
export function hasBadKeySegment(prefix: string): boolean {
  if (prefix === "") return false;
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return trimmed.split("/").some((s) => s === "" || s === "." || s === "..");
}

/** Whether a destination names S3 (otherwise it is a directory). */
export function isS3Destination(destination: string): boolean {
  return destination.startsWith("s3://");
}

/** `s3://bucket/key-or-prefix` split at the first `/` after the bucket; `key` is empty for a whole bucket. Checks nothing. */
export function splitS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.slice("s3://".length);
  const slash = rest.indexOf("/");
  return slash < 0 ? { bucket: rest, key: "" } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}
