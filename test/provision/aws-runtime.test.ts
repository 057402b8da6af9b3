import { expect } from "chai";
import { ConflictError, NotFoundError, UnavailableError } from "../../lib/errors";
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

  it("reports a workflow registration unchanged when the deploy made no mutating call", async () => {
    const { api, deploys } = fakeAws([], {});
    const runtime = new AwsWorkflowRuntime({ api, recordsDir: "/data" });
    const plan = { workflow: { name: "align" } } as never;
    expect(await runtime.registerWorkflow(node("lab"), plan)).to.deep.equal({ changed: true, definitionHash: "h1", stateMachineArn: "arn:sm" });
    expect(await runtime.registerWorkflow(node("lab"), plan)).to.include({ changed: false });
    expect(deploys).to.have.length(2);
  });

  it("deletes a workflow through cleanupWorkflow with the node's id and region", async () => {
    const { api, workflowCleanups } = fakeAws([], {});
    await new AwsWorkflowRuntime({ api, recordsDir: "/data" }).deleteWorkflow(node("lab"), "align");
    expect(workflowCleanups).to.deep.equal([{ computeNodeId: "lab", workflowName: "align", region: "us-east-1", clients: { region: "us-east-1" } }]);
  });

  it("refuses cancel and logs with 503 while lib/runtime/aws does not provide them", async () => {
    const { api } = fakeAws([record("wi-1", "lab", "RUNNING")], { "wi-1": "RUNNING" });
    const runtime = new AwsWorkflowRuntime({ api, recordsDir: "/data" });
    const cancel = await runtime.cancelExecution(node("lab"), "wi-1").catch((e) => e);
    expect(cancel).to.be.instanceOf(UnavailableError);
    expect(cancel.message).to.include("stopWorkflowExecution");
    expect(() => runtime.readProcessorLogs(node("lab"), "wi-1", "a")).to.throw(UnavailableError, "readProcessorLogs");
  });

  it("cancels through stopWorkflowExecution, is idempotent on a CANCELING execution and refuses a finished one naming its status", async () => {
    const stops: string[] = [];
    const table = [record("wi-1", "lab", "RUNNING"), record("wi-2", "lab", "CANCELING"), record("wi-3", "lab", "SUCCEEDED")];
    const { api } = fakeAws(table, { "wi-1": "RUNNING", "wi-2": "CANCELING", "wi-3": "SUCCEEDED" }, true, {
      stopWorkflowExecution: async ({ executionId }) => (stops.push(executionId), { ...table[0], status: "CANCELING" }),
    });
    const runtime = new AwsWorkflowRuntime({ api, recordsDir: "/data" });
    expect((await runtime.cancelExecution(node("lab"), "wi-1")).status).to.equal("CANCELING");
    expect((await runtime.cancelExecution(node("lab"), "wi-2")).status).to.equal("CANCELING");
    const finished = await runtime.cancelExecution(node("lab"), "wi-3").catch((e) => e);
    expect(finished).to.be.instanceOf(ConflictError);
    expect(finished.message).to.include("SUCCEEDED");
    expect(stops).to.deep.equal(["wi-1"]);
  });

  it("streams a processor's logs from readProcessorLogs, and refuses a processor the execution does not have", async () => {
    const withProcessor = { ...record("wi-1", "lab", "RUNNING"), processors: { a: { status: "STARTED" } } } as unknown as ExecutionRecord;
    const calls: { processorId: string; follow?: boolean }[] = [];
    const { api } = fakeAws([withProcessor], { "wi-1": "RUNNING" }, true, {
      readProcessorLogs: async function* ({ processorId, follow }) {
        calls.push({ processorId, follow });
        yield "line 1\n";
        yield "line 2\n";
      },
    });
    const runtime = new AwsWorkflowRuntime({ api, recordsDir: "/data" });
    const chunks: string[] = [];
    for await (const chunk of runtime.readProcessorLogs(node("lab"), "wi-1", "a", { follow: true })) chunks.push(chunk);
    expect(chunks.join("")).to.equal("line 1\nline 2\n");
    expect(calls).to.deep.equal([{ processorId: "a", follow: true }]);
    const unknown = await (async () => {
      for await (const _ of runtime.readProcessorLogs(node("lab"), "wi-1", "ghost")) void _;
    })().catch((e) => e);
    expect(unknown).to.be.instanceOf(NotFoundError);
  });
});
