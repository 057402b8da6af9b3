import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export type KeyPurpose = "efs" | "s3" | "logs" | "secrets";

/**
 * One customer-managed key per purpose (secure and compliant modes), rotation on. Separate keys let
 * an auditor revoke, say, log decryption without touching data at rest.
 */
export function createKeys(name: string, computeNodeId: string, region: string, tags: Record<string, string>, parent: pulumi.Resource): Record<KeyPurpose, aws.kms.Key> {
  const identity = pulumi.output(aws.getCallerIdentity({}, { parent }));
  const partition = pulumi.output(aws.getPartition({}, { parent }));
  const make = (purpose: KeyPurpose) => {
    const key = new aws.kms.Key(
      `${name}-${purpose}-key`,
      {
        description: `compute-node ${computeNodeId}: ${purpose} at rest`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi.all([identity.accountId, partition.partition]).apply(([account, part]) => keyPolicy(purpose, account, part, region, computeNodeId)),
        tags,
      },
      // The S3 key encrypts the log archive, which destroy retains: the key must outlive the node too.
      { parent, retainOnDelete: purpose === "s3" },
    );
    new aws.kms.Alias(`${name}-${purpose}-alias`, { name: `alias/compute-node/${computeNodeId}/${purpose}`, targetKeyId: key.keyId }, { parent });
    return key;
  };
  return { efs: make("efs"), s3: make("s3"), logs: make("logs"), secrets: make("secrets") };
}

function keyPolicy(purpose: KeyPurpose, account: string, partition: string, region: string, computeNodeId: string): string {
  const statements: object[] = [
    // Without the account root statement a key can lock out every IAM principal, including its admins.
    { Sid: "AccountAdministration", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
  ];
  if (purpose === "logs")
    statements.push({
      Sid: "CloudWatchLogsOfThisNode",
      Effect: "Allow",
      Principal: { Service: `logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${account}:log-group:/compute-node/${computeNodeId}*` } },
    });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
