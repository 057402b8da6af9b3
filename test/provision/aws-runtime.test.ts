import { expect } from "chai";
import { ConflictError, UnavailableError } from "../../lib/errors";
import { ExecutionRecord, ExecutionStatus } from "../../lib/model/execution-record";
import { ExecutionRecordStore } from "../../lib/model/record-store";
import type { AwsClients } from "../../lib/runtime/aws/clients";
import { AwsRuntimeApi, AwsWorkflowRuntime } from "../../lib/provision/aws-runtime";
import { NodeRecord } from "../../lib/provision/records";

const node = (id: string, outputs: Record<string, unknown> | undefined = { computeNodeId: id, executionTableName: "records" }): NodeRecord => ({
  id,
  mode: "basic",
  region: "us-east-1",
  options: {},
  status: "ready",
  createdAt: "t",
  updatedAt: "t",
  ...(outputs ? { outputs } : {}),
});

const record = (executionId: string, computeNodeId: string, status: ExecutionStatus) => ({ executionId, computeNodeId, status }) as ExecutionRecord;

/** Records as the table holds them, and what Step Functions says now (a record may lag behind). */
function fakeAws(table: ExecutionRecord[], actual: Record<string, ExecutionStatus>, withCleanup = true, extra: Partial<AwsRuntimeApi> = {}) {
  const cleanups: { computeNodeId: string; force?: boolean }[] = [];
  const deploys: unknown[] = [];
  const workflowCleanups: { workflowName: string }[] = [];
  const stores: { table?: string; dir: string }[] = [];
  const store = { list: async () => table } as unknown as ExecutionRecordStore;
  const api: AwsRuntimeApi = {
    createClients: (region) => ({ region }) as unknown as AwsClients,
    recordStore: (_outputs, _clients, table, dir) => (stores.push({ table, dir }), store),
    parseNodeOutputs: (value) => value as never,
    startWorkflowExecution: async () => ({ executionId: "wi-new" }),
    getExecutionRecord: async ({ executionId }) => ({ ...table.find((r) => r.executionId === executionId)!, status: actual[executionId] }),
    ...(withCleanup ? { cleanupNodeResources: async (o: { computeNodeId: string; force?: boolean }) => void cleanups.push(o) } : {}),
    deployWorkflow: async (o) => (deploys.push(o), { stateMachineArn: "arn:sm", definitionHash: "h1", mutatingCalls: deploys.length === 1 ? 3 : 0 }),
    cleanupWorkflow: async (o) => void workflowCleanups.push(o),
    ...extra,
  };
  return { api, cleanups, stores, deploys, workflowCleanups };
}

describe("AwsWorkflowRuntime", () => {
  it("calls an execution running only when Step Functions still says so, and only on its own node", async () => {
    const table = [record("wi-1", "lab", "RUNNING"), record("wi-2", "lab", "RUNNING"), record("wi-3", "other", "RUNNING")];
    const { api } = fakeAws(table, { "wi-1": "SUCCEEDED", "wi-2": "RUNNING", "wi-3": "RUNNING" });
    const runtime = new AwsWorkflowRuntime({ api, recordsDir: "/data" });
    expect(await runtime.runningExecutionOf(node("lab"))).to.equal("wi-2");
    const { api: idle } = fakeAws([record("wi-1", "lab", "RUNNING")], { "wi-1": "FAILED" });
    expect(await new AwsWorkflowRuntime({ api: idle, recordsDir: "/data" }).runningExecutionOf(node("lab"))).to.equal(undefined);
  });

  it("refuses the per-node cleanup while an execution runs, and runs it with force", async () => {
    const { api, cleanups } = fakeAws([record("wi-9", "lab", "RUNNING")], { "wi-9": "RUNNING" });
    const runtime = new AwsWorkflowRuntime({ api, recordsDir: "/data" });
    const err = await runtime.cleanupNode(node("lab"), { force: false }).catch((e) => e);
    expect(err).to.be.instanceOf(ConflictError);
    expect(err.holderId).to.equal("wi-9");
    expect(cleanups).to.deep.equal([]);
    await runtime.cleanupNode(node("lab"), { force: true });
    expect(cleanups).to.deep.include({ computeNodeId: "lab", region: "us-east-1", force: true, clients: { region: "us-east-1" } });
  });

  it("refuses to destroy (503) rather than leak registered resources when the cleanup module is missing", async () => {
    const { api } = fakeAws([], {}, false);
    expect(await new AwsWorkflowRuntime({ api, recordsDir: "/data" }).cleanupNode(node("lab"), { force: false }).catch((e) => e)).to.be.instanceOf(UnavailableError);
  });

  it("uses the service's execution table when configured, else the node's own choice with the data dir as fallback", async () => {
    const { api, stores } = fakeAws([], {});
    await new AwsWorkflowRuntime({ api, recordsDir: "/data" }).runningExecutionOf(node("lab"));
    await new AwsWorkflowRuntime({ api, recordsDir: "/data", executionTable: "records-table" }).runningExecutionOf(node("lab"));
    expect(stores).to.deep.equal([
      { table: undefined, dir: "/data" },
      { table: "records-table", dir: "/data" },
    ]);
  });
});
