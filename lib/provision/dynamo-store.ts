import { createHash } from "node:crypto";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { OperationEvent, isTerminalOperationState } from "./events";
import { ExecutionRef, ExecutionRefSchema, IdempotencyEntry, IdempotencyEntrySchema, NodeRecord, NodeRecordSchema, OperationRecord, OperationRecordSchema, WorkflowDefinitionRecord, WorkflowDefinitionRecordSchema } from "./records";
import { ProvisionStore } from "./store";
import type { ExecutionEvent } from "./execution-events";
import { isConditionalCheckFailed } from "../runtime/aws/errors";

export interface DynamoProvisionStoreOptions {
  client: Pick<DynamoDBDocumentClient, "send">;
  tableName: string;
}

/** The table the store needs: string keys `pk` and `sk`, on-demand billing. */
export function provisionTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
  };
}

/**
 * The provisioner's state in one DynamoDB table, for services that keep no local disk. Records are
 * stored whole as JSON in `data` (validated on read); operations carry a sparse `unfinished`
 * attribute so a restart finds them; events sort by `sk = event#<sequence>` under their operation;
 * an idempotency key is claimed with a conditional put.
 */
export class DynamoProvisionStore implements ProvisionStore {
  constructor(private readonly options: DynamoProvisionStoreOptions) {}

  getNode(id: string) {
    return this.getItem(`node#${id}`, "node", NodeRecordSchema);
  }

  async putNode(node: NodeRecord) {
    await this.putItem({ pk: `node#${node.id}`, sk: "node", kind: "node", data: JSON.stringify(NodeRecordSchema.parse(node)) });
  }

  async listNodes() {
    const nodes = await this.scanKind("node", NodeRecordSchema);
    return nodes.sort((a, b) => a.id.localeCompare(b.id));
  }

  getOperation(id: string) {
    return this.getItem(`op#${id}`, "op", OperationRecordSchema);
  }

  async putOperation(operation: OperationRecord) {
    const parsed = OperationRecordSchema.parse(operation);
    await this.putItem({ pk: `op#${parsed.id}`, sk: "op", kind: "op", data: JSON.stringify(parsed), ...(isTerminalOperationState(parsed.state) ? {} : { unfinished: "1" }) });
  }

  async listUnfinishedOperations() {
    const items = await this.scan({ FilterExpression: "kind = :op AND attribute_exists(unfinished)", ExpressionAttributeValues: { ":op": "op" } });
    return items
      .map((item) => OperationRecordSchema.parse(JSON.parse(item.data as string)))
      .filter((op) => !isTerminalOperationState(op.state))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async appendEvent(event: OperationEvent) {
    await this.putItem({ pk: `op#${event.operationId}`, sk: `event#${String(event.sequence).padStart(10, "0")}`, kind: "event", data: JSON.stringify(event) });
  }

  async readEvents(operationId: string): Promise<OperationEvent[]> {
    const events: OperationEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :event)",
          ExpressionAttributeValues: { ":pk": `op#${operationId}`, ":event": "event#" },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) events.push(JSON.parse(item.data as string) as OperationEvent);
      start = page.LastEvaluatedKey;
    } while (start);
    return events;
  }

  getIdempotencyKey(key: string) {
    return this.getItem(`idem#${hashKey(key)}`, "idem", IdempotencyEntrySchema);
  }

  async claimIdempotencyKey(entry: IdempotencyEntry) {
    const parsed = IdempotencyEntrySchema.parse(entry);
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { pk: `idem#${hashKey(parsed.key)}`, sk: "idem", kind: "idem", data: JSON.stringify(parsed) },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return this.getIdempotencyKey(parsed.key);
    }
  }

  async putExecutionRef(ref: ExecutionRef) {
    await this.putItem({ pk: `exec#${ref.executionId}`, sk: "exec", kind: "exec", data: JSON.stringify(ExecutionRefSchema.parse(ref)) });
  }

  getExecutionRef(executionId: string) {
    return this.getItem(`exec#${executionId}`, "exec", ExecutionRefSchema);
  }

  async appendExecutionEvent(event: ExecutionEvent) {
    await this.putItem({ pk: `execev#${event.executionId}`, sk: `event#${String(event.sequence).padStart(10, "0")}`, kind: "execev", data: JSON.stringify(event) });
  }

  async readExecutionEvents(executionId: string): Promise<ExecutionEvent[]> {
    const events: ExecutionEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({ TableName: this.options.tableName, KeyConditionExpression: "pk = :pk AND begins_with(sk, :event)", ExpressionAttributeValues: { ":pk": `execev#${executionId}`, ":event": "event#" }, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) events.push(JSON.parse(item.data as string) as ExecutionEvent);
      start = page.LastEvaluatedKey;
    } while (start);
    return events;
  }

  async putWorkflow(definition: WorkflowDefinitionRecord) {
    const parsed = WorkflowDefinitionRecordSchema.parse(definition);
    await this.putItem({ pk: `wf#${parsed.nodeId}`, sk: `wf#${parsed.name}`, kind: "wf", data: JSON.stringify(parsed) });
  }

  getWorkflow(nodeId: string, name: string) {
    return this.getItem(`wf#${nodeId}`, `wf#${name}`, WorkflowDefinitionRecordSchema);
  }

  async listWorkflows(nodeId: string): Promise<WorkflowDefinitionRecord[]> {
    const out: WorkflowDefinitionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({ TableName: this.options.tableName, KeyConditionExpression: "pk = :pk AND begins_with(sk, :wf)", ExpressionAttributeValues: { ":pk": `wf#${nodeId}`, ":wf": "wf#" }, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) out.push(WorkflowDefinitionRecordSchema.parse(JSON.parse(item.data as string)));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async deleteWorkflow(nodeId: string, name: string) {
    await this.options.client.send(new DeleteCommand({ TableName: this.options.tableName, Key: { pk: `wf#${nodeId}`, sk: `wf#${name}` } }));
  }

  private async getItem<S extends z.ZodTypeAny>(pk: string, sk: string, schema: S): Promise<z.output<S> | undefined> {
    const res = await this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return res.Item ? schema.parse(JSON.parse(res.Item.data as string)) : undefined;
  }

  private async putItem(item: Record<string, unknown>) {
    await this.options.client.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
  }

  private async scanKind<S extends z.ZodTypeAny>(kind: string, schema: S): Promise<z.output<S>[]> {
    const items = await this.scan({ FilterExpression: "kind = :kind", ExpressionAttributeValues: { ":kind": kind } });
    return items.map((item) => schema.parse(JSON.parse(item.data as string)));
  }

  private async scan(filter: { FilterExpression: string; ExpressionAttributeValues: Record<string, unknown> }) {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(new ScanCommand({ TableName: this.options.tableName, ...filter, ConsistentRead: true, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");
