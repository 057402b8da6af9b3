import { gunzipSync, gzipSync } from "node:zlib";
import { CreateTableCommandInput, GetItemCommand, PutItemCommand, ScanCommand, ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import { ConflictError, NotFoundError } from "../../errors";
import { ExecutionRecord, ExecutionRecordSchema, ProcessorRunState, advanceProcessorState } from "../../model/execution-record";
import { ExecutionRecordStore } from "../../model/record-store";
import { AwsClients } from "./clients";
import { isConditionalCheckFailed, toRuntimeError } from "./errors";

type ExecutionPatch = Parameters<ExecutionRecordStore["updateExecution"]>[1];

/** The table an execution record store needs: `executionId` (S) as the only key. */
export function executionTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "executionId", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "executionId", KeyType: "HASH" }],
  };
}

/**
 * Execution records in DynamoDB, one item each: the record as gzipped JSON (a large DAG's record
 * stays far below the 400 KB item limit) plus a version number. Updates are optimistic
 * (conditional on the version) and retried, so concurrent writers never lose each other's changes.
 */
export class DynamoRecordStore implements ExecutionRecordStore {
  constructor(
    private readonly options: { clients: Pick<AwsClients, "dynamodb" | "limits">; tableName: string },
  ) {}

  async create(record: ExecutionRecord): Promise<void> {
    const parsed = ExecutionRecordSchema.parse(record);
    try {
      await this.put(parsed, 0);
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new ConflictError(`execution "${parsed.executionId}" already exists in ${this.options.tableName}`, parsed.executionId, { cause: err });
      throw toRuntimeError(err, `PutItem ${this.options.tableName}/${parsed.executionId}`);
    }
  }

  async get(executionId: string): Promise<ExecutionRecord | undefined> {
    return (await this.read(executionId))?.record;
  }

  async list(): Promise<ExecutionRecord[]> {
    const out: ExecutionRecord[] = [];
    let start: ScanCommandOutput["LastEvaluatedKey"];
    do {
      const page: ScanCommandOutput = await this.options.clients.limits
        .run("dynamodb:Scan", () => this.options.clients.dynamodb.send(new ScanCommand({ TableName: this.options.tableName, ExclusiveStartKey: start })))
        .catch((err) => {
          throw toRuntimeError(err, `Scan ${this.options.tableName}`);
        });
      for (const item of page.Items ?? []) if (item.record?.B) out.push(decode(item.record.B));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  updateProcessor(executionId: string, processorId: string, state: ProcessorRunState): Promise<ExecutionRecord> {
    return this.modify(executionId, (record) => {
      const current = record.processors[processorId];
      if (!current) throw new NotFoundError(`execution "${executionId}" has no processor "${processorId}"`);
      record.processors[processorId] = advanceProcessorState(current, state);
    });
  }

  updateExecution(executionId: string, patch: ExecutionPatch): Promise<ExecutionRecord> {
    return this.modify(executionId, (record) => {
      const { artifacts, ...rest } = patch;
      Object.assign(record, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
      if (artifacts) record.artifacts = { ...record.artifacts, ...artifacts };
    });
  }

  /** Applies several processor changes and an execution patch in one conditional write. */
  async applyChanges(executionId: string, processors: Record<string, ProcessorRunState>, patch: ExecutionPatch = {}): Promise<ExecutionRecord> {
    return this.modify(executionId, (record) => {
      for (const [id, state] of Object.entries(processors)) if (record.processors[id]) record.processors[id] = advanceProcessorState(record.processors[id], state);
      const { artifacts, ...rest } = patch;
      Object.assign(record, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
      if (artifacts) record.artifacts = { ...record.artifacts, ...artifacts };
    });
  }

  private async modify(executionId: string, change: (record: ExecutionRecord) => void): Promise<ExecutionRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.read(executionId);
      if (!current) throw new NotFoundError(`no execution "${executionId}" in ${this.options.tableName}`);
      const record = structuredClone(current.record);
      change(record);
      // The snapshot is immutable whatever a caller's patch says.
      record.snapshot = current.record.snapshot;
      try {
        await this.put(record, current.version + 1, current.version);
        return record;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw toRuntimeError(err, `PutItem ${this.options.tableName}/${executionId}`);
        await new Promise((r) => setTimeout(r, Math.random() * 20 * (attempt + 1)));
      }
    }
    throw new ConflictError(`execution "${executionId}" kept changing while being updated`, executionId);
  }

  private async read(executionId: string): Promise<{ record: ExecutionRecord; version: number } | undefined> {
    const out = await this.options.clients.limits
      .run("dynamodb:GetItem", () => this.options.clients.dynamodb.send(new GetItemCommand({ TableName: this.options.tableName, Key: { executionId: { S: executionId } }, ConsistentRead: true })))
      .catch((err) => {
        throw toRuntimeError(err, `GetItem ${this.options.tableName}/${executionId}`);
      });
    if (!out.Item?.record?.B) return undefined;
    return { record: decode(out.Item.record.B), version: Number(out.Item.version?.N ?? 0) };
  }

  private put(record: ExecutionRecord, version: number, expected?: number) {
    return this.options.clients.limits.run("dynamodb:PutItem", () =>
      this.options.clients.dynamodb.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            executionId: { S: record.executionId },
            computeNodeId: { S: record.computeNodeId },
            status: { S: record.status },
            version: { N: String(version) },
            record: { B: gzipSync(JSON.stringify(record)) },
          },
          ...(expected === undefined
            ? { ConditionExpression: "attribute_not_exists(executionId)" }
            : { ConditionExpression: "#v = :v", ExpressionAttributeNames: { "#v": "version" }, ExpressionAttributeValues: { ":v": { N: String(expected) } } }),
        }),
      ),
    );
  }
}

function decode(bytes: Uint8Array): ExecutionRecord {
  return ExecutionRecordSchema.parse(JSON.parse(gunzipSync(bytes).toString("utf8")));
}
