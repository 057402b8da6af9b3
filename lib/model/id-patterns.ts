// No imports, so the dependency-free Lambda payload parsers can check ids by the same rule as the model (lib/model/ids.ts).

/**
 * A compute node id: 1–39 lowercase letters, digits or '-', starting with a letter or digit. It
 * becomes an EFS directory (`/mnt/efs/{computeNodeId}/…`), S3 prefixes and secret names, and the
 * node's own resource names (`cn-{id}-data-transfer` must fit Lambda's 64 characters, bucket names
 * must be lowercase), so nothing that could climb a path or break a name gets in.
 */
export const COMPUTE_NODE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}$/;

/**
 * A workflow instance id: 1–80 letters, digits, '-' or '_', starting with a letter or digit. It
 * names the Step Functions execution (at most 80 characters of that alphabet), the execution's
 * EFS directories and its token secret; the runtimes generate `wi-<UTC time>-<random hex>`, and
 * platform UUIDs fit as well.
 */
export const WORKFLOW_INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/;

export const COMPUTE_NODE_ID_RULE = "1–39 lowercase letters, digits or '-', starting with a letter or digit";
export const WORKFLOW_INSTANCE_ID_RULE = "1–80 letters, digits, '-' or '_', starting with a letter or digit";
