import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotFoundError } from "../../lib/errors";
import { LocalNodeEngine } from "../../lib/provision/local-node-engine";
import { NodeSpec } from "../../lib/provision/stack-engine";

const spec = (extra: Partial<NodeSpec> = {}): NodeSpec => ({ id: "lab", mode: "basic", region: "us-east-1", options: {}, ...extra });

describe("LocalNodeEngine", () => {
  let root: string;
  let engine: LocalNodeEngine;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "cn-local-engine-"));
    engine = new LocalNodeEngine({ root, now: () => new Date("2026-01-01T00:00:00Z") });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("creates a node as a directory whose outputs point the local runner at it, then reports it unchanged", async () => {
    const events: string[] = [];
    const created = await engine.up(spec(), { onEvent: (e) => events.push(e.type) });
    expect(created.resourceChanges).to.deep.equal({ create: 1 });
    expect(created.outputs.workdir).to.deep.equal({ value: "runtime/lab", secret: false });
    expect(created.outputs.runtime.value).to.equal("local");
    expect(existsSync(join(root, "lab", "node.json"))).to.equal(true);
    expect(events).to.deep.equal(["resource-pre", "resource-outputs", "summary"]);
    expect((await engine.up(spec())).resourceChanges).to.deep.equal({ same: 1 });
    expect((await engine.outputs(spec())).computeNodeId.value).to.equal("lab");
  });

  it("previews a change without writing it, naming the properties that change", async () => {
    expect((await engine.preview(spec())).resourceChanges).to.deep.equal({ create: 1 });
    expect(existsSync(join(root, "lab"))).to.equal(false);
    await engine.up(spec());
    const planned = await engine.preview(spec({ mode: "secure", options: { gpu: true } }));
    expect(planned.resourceChanges).to.deep.equal({ update: 1 });
    expect(planned.steps?.[0]).to.include({ op: "update", resourceType: "compute-node:local:Node" });
    expect(planned.steps?.[0].diffs).to.deep.equal(["mode", "options.gpu"]);
    expect((await engine.preview(spec())).resourceChanges).to.deep.equal({ same: 1 });
  });

  it("destroys a node by removing its directory, after which outputs, refresh and destroy say it does not exist", async () => {
    await engine.up(spec());
    expect((await engine.destroy(spec())).resourceChanges).to.deep.equal({ delete: 1 });
    expect(existsSync(join(root, "lab"))).to.equal(false);
    for (const call of [() => engine.outputs(spec()), () => engine.refresh(spec()), () => engine.destroy(spec())]) expect(await call().catch((e) => e)).to.be.instanceOf(NotFoundError);
    await engine.cancel();
  });
});
