import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * The bucket of the executions' environment files (ECS processors' tokens): private, TLS only,
 * encrypted with the node's S3 key where it has one, and unversioned, so deleting a file at the
 * end of its execution deletes every copy of the tokens in it. Anything a failed run left behind
 * expires after a day (S3's shortest lifecycle), the longest a file outlives its execution.
 */
export function createEnvFileBucket(name: string, computeNodeId: string, keyArn: pulumi.Input<string> | undefined, tags: Record<string, string>, parent: pulumi.Resource): aws.s3.Bucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(`${name}-env-files`, { bucketPrefix: `cn-${computeNodeId}-env-`.slice(0, 37), forceDestroy: true, tags }, opts);
  new aws.s3.BucketPublicAccessBlock(`${name}-env-files-pab`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, opts);
  new aws.s3.BucketOwnershipControls(`${name}-env-files-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-env-files-sse`,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: keyArn ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn } : { sseAlgorithm: "AES256" }, bucketKeyEnabled: !!keyArn }] },
    opts,
  );
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-env-files-lifecycle`,
    { bucket: bucket.id, rules: [{ id: "expire-leftovers", status: "Enabled", filter: { prefix: "" }, expiration: { days: 1 }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }] },
    opts,
  );
  new aws.s3.BucketPolicy(
    `${name}-env-files-tls`,
    {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [arn, `${arn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } }],
        }),
      ),
    },
    opts,
  );
  return bucket;
}
