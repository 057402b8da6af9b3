import { expect } from "chai";
import { isTerminalExecutionStatus, ExecutionStatus } from "../../lib/model/execution-record";
import { createReadyNode, removeDir, startTestService, TestService, TOKEN, waitForOperation } from "./helpers";

const node = (script: string) => [process.execPath, "-e", script];
const writeOutput = node(`require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR, "out.txt"), "ok")`);
const sleepLong = node(`setTimeout(() => {}, 30000)`);

function workflowBody(commands: Record<string, string[]>, edges: Record<string, string[]> = {}) {
  const ids = Object.keys(commands);
  return {
    workflow: { processors: ids.map((id) => ({ id, sourceUrl: `local/${id}`, dependsOn: edges[id] ?? [] })) },
    processors: ids.map((id) => ({ sourceUrl: `local/${id}`, localCommand: commands[id] })),
  };
}

async function waitForExecution(svc: TestService, id: string, until: (status: string) => boolean) {
  for (let i = 0; i < 500; i++) {
    const record = (await svc.get(`/v1/executions/${id}`).expect(200)).body;
    if (until(record.status)) return record;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`execution ${id} never reached the expected status`);
}

describe("provisioner service: workflow executions", () => {
  let svc: TestService;
  beforeEach(async () => (svc = await startTestService()));
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("compiles, starts and reports a workflow on a ready node, with per-processor status", async () => {
    await createReadyNode(svc, "wf-1");
    const res = await svc.post("/v1/nodes/wf-1/workflows/align/executions", workflowBody({ a: writeOutput, b: writeOutput }, { b: ["a"] })).expect(202);
    expect(res.body).to.include({ nodeId: "wf-1", workflowName: "align" });
    expect(res.headers.location).to.equal(`/v1/executions/${res.body.executionId}`);
    const record = await waitForExecution(svc, res.body.executionId, (s) => isTerminalExecutionStatus(s as ExecutionStatus));
    expect(record.status).to.equal("SUCCEEDED");
    expect(record.computeNodeId).to.equal("wf-1");
    expect(record.snapshot.workflow.name).to.equal("align");
    expect(Object.fromEntries(Object.entries(record.processors).map(([id, p]) => [id, (p as { status: string }).status]))).to.deep.equal({ a: "SUCCEEDED", b: "SUCCEEDED" });
  });

  it("rejects an invalid workflow with 400 naming the processor and field", async () => {
    await createReadyNode(svc, "wf-2");
    const res = await svc.post("/v1/nodes/wf-2/workflows/w/executions", workflowBody({ a: writeOutput }, { a: ["ghost"] })).expect(400);
    const issue = res.body.error.issues.find((i: { code: string }) => i.code === "unknown_dependency");
    expect(issue).to.include({ processorId: "a", field: "workflow.processors[0].dependsOn[0]" });
  });

  it("refuses an execution on a node that is not ready with 409, and on an unknown node with 404", async () => {
    const hold = svc.engine.holdNext("wf-3", "up");
    const create = await svc.post("/v1/nodes", { id: "wf-3", region: "us-east-1" }).expect(202);
    const res = await svc.post("/v1/nodes/wf-3/workflows/w/executions", workflowBody({ a: writeOutput })).expect(409);
    expect(res.body.error.holderId).to.equal(create.body.operation.id);
    hold.release();
    await waitForOperation(svc, create.body.operation.id);
    await svc.post("/v1/nodes/nope/workflows/w/executions", workflowBody({ a: writeOutput })).expect(404);
    await svc.get("/v1/executions/wi-unknown").expect(404);
  });

  it("refuses to destroy a node while an execution runs (409 naming it), and destroys with force=true, stopping it", async () => {
    await createReadyNode(svc, "wf-4");
    const started = await svc.post("/v1/nodes/wf-4/workflows/long/executions", workflowBody({ a: sleepLong })).expect(202);
    const executionId = started.body.executionId;
    const refused = await svc.del("/v1/nodes/wf-4").expect(409);
    expect(refused.body.error.holderId).to.equal(executionId);
    expect((await svc.get("/v1/nodes/wf-4").expect(200)).body.status).to.equal("ready");
    expect(svc.engine.calls.filter((c) => c.kind === "destroy")).to.deep.equal([]);

    const forced = await svc.del("/v1/nodes/wf-4?force=true").expect(202);
    const op = await waitForOperation(svc, forced.body.operation.id, 15000);
    expect(op.state).to.equal("succeeded");
    const record = (await svc.get(`/v1/executions/${executionId}`).expect(200)).body;
    expect(record.status).to.equal("ABORTED");
    expect((await svc.get("/v1/nodes/wf-4").expect(404)).body.error.message).to.include("destroyed");
  });

  it("keeps an idle event stream open with heartbeat comments until the execution ends", async () => {
    await createReadyNode(svc, "wf-6");
    const started = await svc.post("/v1/nodes/wf-6/workflows/idle/executions", workflowBody({ a: sleepLong })).expect(202);
    const res = await fetch(`${svc.url}/v1/executions/${started.body.executionId}/events`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get("content-type")).to.match(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes(": keep-alive")) text += new TextDecoder().decode((await reader.read()).value);
    await svc.post(`/v1/executions/${started.body.executionId}/cancel`).expect(202);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    const last = text.trim().split("\n\n").filter((block) => block.includes("data: ")).pop()!;
    expect(JSON.parse(last.split("data: ")[1])).to.include({ type: "execution-status", status: "CANCELED" });
  });

  it("keeps a local inputDir inside the service's input root", async () => {
    await createReadyNode(svc, "wf-5");
    const res = await svc.post("/v1/nodes/wf-5/workflows/w/executions", { ...workflowBody({ a: writeOutput }), inputDir: "../../etc" }).expect(400);
    expect(res.body.error.issues[0].code).to.equal("input_dir_outside_root");
  });
});
