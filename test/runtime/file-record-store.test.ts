import { expect } from "chai";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileRecordStore } from "../../lib/runtime/file-record-store";
import { ConflictError } from "../../lib/errors";
import { ExecutionRecord } from "../../lib/model/execution-record";

function record(id: string, processors: string[]): ExecutionRecord {
  return {
    executionId: id,
    workflowInstanceId: id,
    backend: "local",
    computeNodeId: "local",
    createdAt: new Date().toISOString(),
    snapshot: {
      workflow: { name: "wf", processors: processors.map((p) => ({ id: p, sourceUrl: `x/${p}`, dependsOn: [] })) },
      processors: processors.map((p) => ({ sourceUrl: `x/${p}`, computeTypes: ["ecs" as const] })),
      invocation: { workflowInstanceConfiguration: { processorConfigs: [] }, packageIds: [], params: { computeTypeOverrides: {} } },
      mode: "basic",
      resolved: processors.map((p) => ({ id: p, uuid: p, image: `x/${p}`, computeType: "ecs" as const, cpu: 0.5, memory: 1024, hash: p })),
      definitionHash: "h",
    },
    status: "PENDING",
    processors: Object.fromEntries(processors.map((p) => [p, { status: "NOT_STARTED" as const }])),
  };
}

describe("FileRecordStore", () => {
  it("refuses to create an execution id twice, so a snapshot is never overwritten", async () => {
    const store = new FileRecordStore(await mkdtemp(join(tmpdir(), "cn-store-")));
    await store.create(record("wi-1", ["a"]));
    let caught: unknown;
    await store.create(record("wi-1", ["b"])).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(ConflictError);
    expect((await store.get("wi-1"))!.snapshot.resolved[0].id).to.equal("a");
  });

  it("keeps every update of many concurrent processor changes and leaves no temp files", async () => {
    const root = await mkdtemp(join(tmpdir(), "cn-store-"));
    const ids = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const store = new FileRecordStore(root);
    await store.create(record("wi-2", ids));
    await Promise.all(ids.map((p) => store.updateProcessor("wi-2", p, { status: "STARTED", startedAt: "t1" })));
    await Promise.all(ids.map((p, i) => store.updateProcessor("wi-2", p, { status: i % 2 ? "FAILED" : "SUCCEEDED", finishedAt: "t2", exitCode: i % 2 })));
    const fresh = await new FileRecordStore(root).get("wi-2");
    expect(Object.values(fresh!.processors).filter((s) => s.status === "SUCCEEDED")).to.have.length(25);
    expect(fresh!.processors.p3).to.deep.equal({ status: "FAILED", startedAt: "t1", finishedAt: "t2", exitCode: 1 });
    expect(await readdir(join(root, "wi-2"))).to.deep.equal(["record.json"]);
  });

  it("never moves a processor backwards", async () => {
    const store = new FileRecordStore(await mkdtemp(join(tmpdir(), "cn-store-")));
    await store.create(record("wi-3", ["a"]));
    await store.updateProcessor("wi-3", "a", { status: "SUCCEEDED", exitCode: 0 });
    const after = await store.updateProcessor("wi-3", "a", { status: "STARTED" });
    expect(after.processors.a.status).to.equal("SUCCEEDED");
  });

  it("writes execution changes through to disk without touching the snapshot", async () => {
    const root = await mkdtemp(join(tmpdir(), "cn-store-"));
    const store = new FileRecordStore(root);
    await store.create(record("wi-4", ["a"]));
    const before = JSON.parse(await readFile(join(root, "wi-4", "record.json"), "utf8")).snapshot;
    await store.updateExecution("wi-4", { status: "SUCCEEDED", finishedAt: "t9" });
    const onDisk = JSON.parse(await readFile(join(root, "wi-4", "record.json"), "utf8"));
    expect(onDisk.status).to.equal("SUCCEEDED");
    expect(onDisk.snapshot).to.deep.equal(before);
  });

  it("lists the executions of a directory, oldest first", async () => {
    const store = new FileRecordStore(await mkdtemp(join(tmpdir(), "cn-store-")));
    await store.create({ ...record("wi-b", ["a"]), createdAt: "2026-01-02T00:00:00.000Z" });
    await store.create({ ...record("wi-a", ["a"]), createdAt: "2026-01-01T00:00:00.000Z" });
    expect((await store.list()).map((r) => r.executionId)).to.deep.equal(["wi-a", "wi-b"]);
  });
});
