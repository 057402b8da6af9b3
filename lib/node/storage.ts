import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { NodeNetwork } from "./network";

export interface NodeStorage {
  fileSystem: aws.efs.FileSystem;
  accessPoint: aws.efs.AccessPoint;
  mountTargets: aws.efs.MountTarget[];
  logGroup: aws.cloudwatch.LogGroup;
  archiveBucket: aws.s3.Bucket;
}

// Live logs stay 30 days in CloudWatch; the archive keeps them warm 90 days, cold up to 7 years (compute-nodes-guide "Logging").
export const LOG_RETENTION_DAYS = 30;
export const ARCHIVE_GLACIER_AFTER_DAYS = 90;
export const ARCHIVE_EXPIRE_AFTER_DAYS = 7 * 365;

export interface StorageKeys {
  efs?: aws.kms.Key;
  s3?: aws.kms.Key;
  logs?: aws.kms.Key;
}

/** EFS shared by processors (one access point rooted at the node's directory), the live log group and the private log archive. */
export function createStorage(name: string, computeNodeId: string, network: NodeNetwork, keys: StorageKeys, tags: Record<string, string>, parent: pulumi.Resource): NodeStorage {
  const opts = { parent };
  const fileSystem = new aws.efs.FileSystem(
    `${name}-efs`,
    { encrypted: true, kmsKeyId: keys.efs?.arn, performanceMode: "generalPurpose", throughputMode: "elastic", tags: { ...tags, Name: `${name}-efs` } },
    opts,
  );
  const mountTargets = subnetList(network).map(
    (subnetId, i) => new aws.efs.MountTarget(`${name}-efs-mt-${i}`, { fileSystemId: fileSystem.id, subnetId, securityGroups: [network.efsSecurityGroup.id] }, opts),
  );
  const accessPoint = new aws.efs.AccessPoint(
    `${name}-efs-ap`,
    {
      fileSystemId: fileSystem.id,
      // Processors see /mnt/efs as the file system root; paths below carry the node id (processor-guide section 4).
      posixUser: { uid: 1000, gid: 1000 },
      rootDirectory: { path: "/", creationInfo: { ownerUid: 1000, ownerGid: 1000, permissions: "0750" } },
      tags: { ...tags, Name: `${name}-efs-ap` },
    },
    opts,
  );
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/compute-node/${computeNodeId}`, retentionInDays: LOG_RETENTION_DAYS, kmsKeyId: keys.logs?.arn, tags }, opts);

  // The archive outlives the node (7-year retention): the bucket and everything that keeps it private
  // and expiring are retained when the stack is destroyed (docs/node.md, "Destroy", says how to remove them).
  const archived = { ...opts, retainOnDelete: true };
  const archiveBucket = new aws.s3.Bucket(`${name}-log-archive`, { bucketPrefix: `cn-${computeNodeId}-logs-`.slice(0, 37), forceDestroy: false, tags }, archived);
  new aws.s3.BucketPublicAccessBlock(`${name}-log-archive-pab`, { bucket: archiveBucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, archived);
  new aws.s3.BucketOwnershipControls(`${name}-log-archive-ownership`, { bucket: archiveBucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, archived);
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-log-archive-sse`,
    {
      bucket: archiveBucket.id,
      rules: [{ applyServerSideEncryptionByDefault: keys.s3 ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: keys.s3.arn } : { sseAlgorithm: "AES256" }, bucketKeyEnabled: !!keys.s3 }],
    },
    archived,
  );
  new aws.s3.BucketVersioning(`${name}-log-archive-versioning`, { bucket: archiveBucket.id, versioningConfiguration: { status: "Enabled" } }, archived);
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-log-archive-lifecycle`,
    {
      bucket: archiveBucket.id,
      rules: [
        {
          id: "warm-cold-expire",
          status: "Enabled",
          filter: { prefix: "" },
          transitions: [{ days: ARCHIVE_GLACIER_AFTER_DAYS, storageClass: "GLACIER" }],
          expiration: { days: ARCHIVE_EXPIRE_AFTER_DAYS },
          noncurrentVersionExpiration: { noncurrentDays: 30 },
        },
      ],
    },
    archived,
  );
  new aws.s3.BucketPolicy(
    `${name}-log-archive-tls`,
    {
      bucket: archiveBucket.id,
      policy: archiveBucket.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
        }),
      ),
    },
    archived,
  );
  return { fileSystem, accessPoint, mountTargets, logGroup, archiveBucket };
}

function subnetList(network: NodeNetwork): pulumi.Output<string>[] {
  return [...Array(network.subnetCount).keys()].map((i) => network.subnetIds.apply((ids) => ids[i]));
}
