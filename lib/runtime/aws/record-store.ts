import { join, resolve } from "node:path";
import { NodeOutputs } from "../../model/node-outputs";
import { ExecutionRecordStore } from "../../model/record-store";
import { FileRecordStore } from "../file-record-store";
import { AwsClients } from "./clients";
import { DynamoRecordStore } from "./dynamo-record-store";

/**
 * Where a node's execution records live: the DynamoDB table the node exports as
 * `executionTableName`, or files under `localDir` for nodes without one.
 */
export function recordStoreFor(node: NodeOutputs, clients: AwsClients, localDir: string): ExecutionRecordStore {
  const table = (node as Record<string, unknown>).executionTableName;
  if (typeof table === "string" && table) return new DynamoRecordStore({ clients, tableName: table });
  return new FileRecordStore(join(resolve(localDir), "aws-executions"));
}
