import { expect } from "chai";
import { mkdtemp, mkdir, readFile, readdir, readlink, writeFile, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MergeCollisionError } from "../../../lib/errors";
import { mergeInputs } from "../../../lib/integrations/transfer/merge";
import { isComputeNodeError } from "../../../lib/errors";

async function outputs(files: Record<string, Record<string, string>>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "cn-merge-"));
  for (const [dir, contents] of Object.entries(files)) {
    await mkdir(join(root, dir), { recursive: true });
    for (const [name, text] of Object.entries(contents)) await writeFile(join(root, dir, name), text);
  }
  return root;
}

describe("mergeInputs", () => {
  it("links every file of every upstream output into the merged directory", async () => {
    const root = await outputs({ b: { "b.txt": "from b" }, c: { "c.txt": "from c", "c2.txt": "more" } });
    const result = await mergeInputs({ processorId: "d", targetDir: join(root, "m_d"), sources: [{ processorId: "b", dir: join(root, "b") }, { processorId: "c", dir: join(root, "c") }] });
    expect((await readdir(join(root, "m_d"))).sort()).to.deep.equal(["b.txt", "c.txt", "c2.txt"]);
    expect(await readlink(join(root, "m_d", "c.txt"))).to.equal(join(root, "c", "c.txt"));
    expect(await readFile(join(root, "m_d", "b.txt"), "utf8")).to.equal("from b");
    expect(result).to.deep.include({ entries: 3, sources: 2, sample: [{ name: "b.txt", from: "b" }, { name: "c.txt", from: "c" }, { name: "c2.txt", from: "c" }] });
  });

  it("fails on a file name two upstream processors both produced, naming both and the file", async () => {
    const root = await outputs({ left: { "same.csv": "1", "l.txt": "l" }, right: { "same.csv": "2" } });
    let caught: unknown;
    try {
      await mergeInputs({ processorId: "join", targetDir: join(root, "m_join"), sources: [{ processorId: "left", dir: join(root, "left") }, { processorId: "right", dir: join(root, "right") }] });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(MergeCollisionError);
    const err = caught as MergeCollisionError;
    expect(err.name).to.equal("MergeCollision");
    expect(err.code).to.equal("merge_collision");
    expect(err.processors).to.deep.equal(["left", "right"]);
    expect(err.file).to.equal("same.csv");
    expect(err.message).to.contain('"left"').and.contain('"right"').and.contain("same.csv");
    expect(isComputeNodeError(err)).to.equal(true);
  });

  it("creates nothing when the merge collides", async () => {
    const root = await outputs({ a: { "x": "1" }, b: { "x": "2" } });
    await mergeInputs({ processorId: "c", targetDir: join(root, "m_c"), sources: [{ processorId: "a", dir: join(root, "a") }, { processorId: "b", dir: join(root, "b") }] }).catch(() => undefined);
    let exists = true;
    await access(join(root, "m_c")).catch(() => (exists = false));
    expect(exists).to.equal(false);
  });

  it("rebuilds the merged directory when run again after an upstream output changed", async () => {
    const root = await outputs({ a: { "old.txt": "1" }, b: { "b.txt": "2" } });
    const args = { processorId: "c", targetDir: join(root, "m_c"), sources: [{ processorId: "a", dir: join(root, "a") }, { processorId: "b", dir: join(root, "b") }] };
    await mergeInputs(args);
    await writeFile(join(root, "a", "new.txt"), "n");
    await mergeInputs(args);
    expect((await readdir(join(root, "m_c"))).sort()).to.deep.equal(["b.txt", "new.txt", "old.txt"]);
  });

  it("links a sub-directory of an upstream output as one entry", async () => {
    const root = await outputs({ a: { "top.txt": "t" }, "a/nested": { "deep.txt": "d" }, b: {} });
    await mergeInputs({ processorId: "c", targetDir: join(root, "m_c"), sources: [{ processorId: "a", dir: join(root, "a") }, { processorId: "b", dir: join(root, "b") }] });
    expect(await readFile(join(root, "m_c", "nested", "deep.txt"), "utf8")).to.equal("d");
  });
});
