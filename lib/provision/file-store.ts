import { createHash, randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { OperationEvent, isTerminalOperationState } from "./events";
import { ExecutionRef, ExecutionRefSchema, IdempotencyEntry, IdempotencyEntrySchema, NodeRecord, NodeRecordSchema, OperationRecord, OperationRecordSchema, WorkflowDefinitionRecord, WorkflowDefinitionRecordSchema } from "./records";
import { ProvisionStore } from "./store";
import type { ExecutionEvent } from "./execution-events";

// Ids become file names; anything else is refused before it reaches the file system.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The embedded store: JSON files under `<dataDir>/state/`, each written atomically (temp file +
 * rename) so a crash leaves the previous version, never half a file. Events are one JSON line each
 * in `<operation>.events.ndjson`; a torn last line (crash mid-append) is ignored on read.
 * One service process owns a data dir.
 */
export class FileProvisionStore implements ProvisionStore {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, "state");
  }

  async getNode(id: string) {
    if (!SAFE_NAME.test(id)) return undefined;
    return this.readJson(this.path("nodes", id), NodeRecordSchema);
  }

  async putNode(node: NodeRecord) {
    await this.writeJson(this.path("nodes", node.id), NodeRecordSchema.parse(node));
  }

  async listNodes() {
    const nodes = await this.readAll("nodes", NodeRecordSchema);
    return nodes.sort((a, b) => a.id.localeCompare(b.id));
  }

  async getOperation(id: string) {
    if (!SAFE_NAME.test(id)) return undefined;
    return this.readJson(this.path("operations", id), OperationRecordSchema);
  }

  async putOperation(operation: OperationRecord) {
    await this.writeJson(this.path("operations", operation.id), OperationRecordSchema.parse(operation));
  }

  async listUnfinishedOperations() {
    const all = await this.readAll("operations", OperationRecordSchema);
    return all.filter((op) => !isTerminalOperationState(op.state)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async appendEvent(event: OperationEvent) {
    await mkdir(join(this.root, "operations"), { recursive: true });
    await appendFile(this.eventsPath(event.operationId), JSON.stringify(event) + "\n");
  }

  async readEvents(operationId: string): Promise<OperationEvent[]> {
    const text = await readFile(this.eventsPath(operationId), "utf8").catch(notFoundAs(""));
    const events: OperationEvent[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as OperationEvent);
      } catch {
        // A crash mid-append tears only the last line.
      }
    }
    return events;
  }

  async claimIdempotencyKey(entry: IdempotencyEntry) {
    const file = this.idempotencyPath(entry.key);
    await mkdir(join(this.root, "idempotency"), { recursive: true });
    try {
      // "wx" fails when the file exists: the claim is atomic even across processes.
      await writeFile(file, JSON.stringify(IdempotencyEntrySchema.parse(entry)), { flag: "wx" });
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return this.readJson(file, IdempotencyEntrySchema);
    }
  }

  async getIdempotencyKey(key: string) {
    return this.readJson(this.idempotencyPath(key), IdempotencyEntrySchema);
  }

  async putExecutionRef(ref: ExecutionRef) {
    await this.writeJson(this.path("executions", ref.executionId), ExecutionRefSchema.parse(ref));
  }

  async getExecutionRef(executionId: string) {
    if (!SAFE_NAME.test(executionId)) return undefined;
    return this.readJson(this.path("executions", executionId), ExecutionRefSchema);
  }

  async appendExecutionEvent(event: ExecutionEvent) {
    await mkdir(join(this.root, "execution-events"), { recursive: true });
    await appendFile(this.executionEventsPath(event.executionId), JSON.stringify(event) + "\n");
  }

  async readExecutionEvents(executionId: string): Promise<ExecutionEvent[]> {
    if (!SAFE_NAME.test(executionId)) return [];
    const text = await readFile(this.executionEventsPath(executionId), "utf8").catch(notFoundAs(""));
    return parseLines<ExecutionEvent>(text);
  }

  private executionEventsPath(executionId: string): string {
    if (!SAFE_NAME.test(executionId)) throw new Error(`internal: unsafe execution id "${executionId}" reached the file store`);
    return join(this.root, "execution-events", `${executionId}.ndjson`);
  }

  async putWorkflow(definition: WorkflowDefinitionRecord) {
    await this.writeJson(this.workflowPath(definition.nodeId, definition.name), WorkflowDefinitionRecordSchema.parse(definition));
  }

  async getWorkflow(nodeId: string, name: string) {
    if (!SAFE_NAME.test(nodeId) || !SAFE_NAME.test(name)) return undefined;
    return this.readJson(this.workflowPath(nodeId, name), WorkflowDefinitionRecordSchema);
  }

  async listWorkflows(nodeId: string) {
    if (!SAFE_NAME.test(nodeId)) return [];
    const all = await this.readAll(join("workflows", nodeId), WorkflowDefinitionRecordSchema);
    return all.sort((a, b) => a.name.localeCompare(b.name));
  }

  async deleteWorkflow(nodeId: string, name: string) {
    if (!SAFE_NAME.test(nodeId) || !SAFE_NAME.test(name)) return;
    await rm(this.workflowPath(nodeId, name), { force: true });
  }

  private workflowPath(nodeId: string, name: string): string {
    if (!SAFE_NAME.test(nodeId) || !SAFE_NAME.test(name)) throw new Error(`internal: unsafe workflow key "${nodeId}/${name}" reached the file store`);
    return join(this.root, "workflows", nodeId, `${name}.json`);
  }

  private path(kind: string, id: string): string {
    if (!SAFE_NAME.test(id)) throw new Error(`internal: unsafe ${kind} id "${id}" reached the file store`);
    return join(this.root, kind, `${id}.json`);
  }

  private eventsPath(operationId: string): string {
    if (!SAFE_NAME.test(operationId)) throw new Error(`internal: unsafe operation id "${operationId}" reached the file store`);
    return join(this.root, "operations", `${operationId}.events.ndjson`);
  }

  private idempotencyPath(key: string): string {
    return join(this.root, "idempotency", `${createHash("sha256").update(key).digest("hex")}.json`);
  }

  private async readJson<S extends z.ZodTypeAny>(file: string, schema: S): Promise<z.output<S> | undefined> {
    const text = await readFile(file, "utf8").catch(notFoundAs(undefined));
    return text === undefined ? undefined : schema.parse(JSON.parse(text));
  }

  private async readAll<S extends z.ZodTypeAny>(kind: string, schema: S): Promise<z.output<S>[]> {
    const dir = join(this.root, kind);
    const names = await readdir(dir).catch(notFoundAs([] as string[]));
    const out: z.output<S>[] = [];
    for (const name of names) {
      if (!name.endsWith(".json") || name.startsWith(".")) continue;
      const value = await this.readJson(join(dir, name), schema);
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  private async writeJson(file: string, value: unknown) {
    const dir = file.slice(0, file.lastIndexOf("/"));
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
    await writeFile(tmp, JSON.stringify(value, null, 2));
    await rename(tmp, file);
  }
}

/** One JSON value per line; a crash mid-append tears only the last line, which is skipped. */
function parseLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // torn last line
    }
  }
  return out;
}

function notFoundAs<T>(fallback: T) {
  return (err: NodeJS.ErrnoException): T => {
    if (err.code === "ENOENT") return fallback;
    throw err;
  };
}
