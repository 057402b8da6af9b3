import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The item attribute DynamoDB's TTL reads (epoch seconds); the join function sets it on every item it writes. */
export const JOIN_TTL_ATTRIBUTE = "expiresAt";

/**
 * The joins table of exact mode: one item per waiting unit (its task token and the dependencies it
 * still waits for) and per aborted execution, keyed by workflowInstanceId (`pk`) and unit (`sk`).
 */
export function createJoinTable(name: string, computeNodeId: string, keyArn: pulumi.Input<string> | undefined, tags: Record<string, string>, parent: pulumi.Resource): aws.dynamodb.Table {
  return new aws.dynamodb.Table(
    `${name}-joins`,
    {
      name: `cn-${computeNodeId}-joins`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
      ],
      // Items outlive their execution only until TTL sweeps them, so no cleanup pass is needed.
      ttl: { attributeName: JOIN_TTL_ATTRIBUTE, enabled: true },
      serverSideEncryption: keyArn ? { enabled: true, kmsKeyArn: keyArn } : { enabled: true },
      // Items are transient coordination state of running executions: a restored copy would hold dead task tokens.
      pointInTimeRecovery: { enabled: false },
      tags,
    },
    { parent },
  );
}
