import { expect } from "chai";
import { appendFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileProvisionStore } from "../../lib/provision/file-store";
import { OperationRecord } from "../../lib/provision/records";
import { describeStoreDefinitionsAndEvents } from "./store-contract";

const op = (id: string, state: OperationRecord["state"], createdAt = "2026-01-01T00:00:00.000Z"): OperationRecord => ({ id, nodeId: "n-1", kind: "create", state, createdAt });

describe("FileProvisionStore", () => {
  let dir: string;
  let store: FileProvisionStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-store-"));
    store = new FileProvisionStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("lists only unfinished operations, oldest first", async () => {
    await store.putOperation(op("op-b", "running", "2026-01-01T00:00:02.000Z"));
    await store.putOperation(op("op-a", "queued", "2026-01-01T00:00:01.000Z"));
    await store.putOperation(op("op-c", "succeeded"));
    expect((await store.listUnfinishedOperations()).map((o) => o.id)).to.deep.equal(["op-a", "op-b"]);
  });

  it("binds an idempotency key exactly once when claims race", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => store.claimIdempotencyKey({ key: "k", fingerprint: "f", operationId: `op-${i}`, createdAt: "2026-01-01T00:00:00.000Z" })),
    );
    expect(results.filter((r) => r === undefined)).to.have.length(1);
    const bound = await store.getIdempotencyKey("k");
    expect(results.filter((r) => r !== undefined).every((r) => r!.operationId === bound!.operationId)).to.equal(true);
  });

  it("ignores a torn last event line left by a crash mid-append", async () => {
    await store.appendEvent({ sequence: 1, timestamp: "t", operationId: "op-1", type: "operation-queued", kind: "create", nodeId: "n-1" });
    await appendFile(join(dir, "state", "operations", "op-1.events.ndjson"), '{"sequence":2,"timest');
    expect((await store.readEvents("op-1")).map((e) => e.sequence)).to.deep.equal([1]);
  });

  it("leaves no temporary files behind and refuses ids that could leave its directory", async () => {
    await store.putOperation(op("op-1", "running"));
    await store.putOperation({ ...op("op-1", "succeeded") });
    expect(await readdir(join(dir, "state", "operations"))).to.deep.equal(["op-1.json"]);
    expect(await store.getExecutionRef("../../etc/passwd")).to.equal(undefined);
    let error: unknown;
    await store.putOperation(op("../escape", "running")).catch((e) => (error = e));
    expect(String(error)).to.include("unsafe");
  });

  describeStoreDefinitionsAndEvents(() => store);
});
