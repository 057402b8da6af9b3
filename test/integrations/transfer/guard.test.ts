import { expect } from "chai";
import { access, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDataTransferHandler, isComputeNodeError, TransferInputError, UnsafePathError, UnsafeSymlinkError } from "../../../lib";
import { handleTransfer } from "../../../lib/integrations/transfer/handler";

const exists = (path: string) => access(path).then(() => true, () => false);
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error & { field?: string; code?: string });

/** A temporary EFS with node-1's execution wi-1 (two outputs, a merge dir, the input), a second node and data outside the mount. */
async function efs() {
  const root = await mkdtemp(join(tmpdir(), "cn-guard-"));
  const mount = join(root, "efs");
  const work = join(mount, "node-1", "workdir", "wi-1");
  const input = join(mount, "node-1", "input", "wi-1");
  const outside = join(root, "srv", "other-data");
  for (const d of [join(work, "aa11"), join(work, "bb22"), join(work, "m_cc33"), input, join(mount, "node-2", "workdir", "wi-1", "m_aa11"), outside]) await mkdir(d, { recursive: true });
  await writeFile(join(work, "aa11", "a.txt"), "a");
  await writeFile(join(work, "bb22", "b.txt"), "b");
  await writeFile(join(input, "in.txt"), "in");
  await writeFile(join(outside, "precious.txt"), "keep");
  const handler = createDataTransferHandler({ efsMountPath: mount, s3: { send: async () => ({ Contents: [] }) } as never });
  const ids = { computeNodeId: "node-1", workflowInstanceId: "wi-1" };
  const merge = (overrides: Record<string, unknown> = {}) =>
    handler({ action: "merge", ...ids, processorId: "d", targetDir: join(work, "m_dd44"), sources: [{ processorId: "a", dir: join(work, "aa11") }, { processorId: "b", dir: join(work, "bb22") }], ...overrides });
  return { root, mount, work, input, outside, handler, ids, merge };
}

describe("data-transfer guard", () => {
  it("refuses a merge whose targetDir is outside the execution, and leaves that directory alone", async () => {
    const { outside, merge } = await efs();
    const err = await failure(merge({ targetDir: outside }));
    expect(err).to.be.instanceOf(UnsafePathError);
    expect(err).to.include({ name: "UnsafePath", code: "unsafe_path", field: "targetDir" });
    expect(await readFile(join(outside, "precious.txt"), "utf8")).to.equal("keep");
  });

  it("refuses a path that climbs out with '..' even when it starts inside the execution", async () => {
    const { work, outside, merge } = await efs();
    const err = await failure(merge({ targetDir: `${work}/../../../../srv/other-data` }));
    expect(err).to.include({ name: "UnsafePath", field: "targetDir" });
    expect(err?.message).to.contain("'..'");
    expect(await exists(join(outside, "precious.txt"))).to.equal(true);
  });

  it("refuses a cleanup of another node's directories and deletes nothing", async () => {
    const { mount, handler, ids } = await efs();
    const other = join(mount, "node-2", "workdir", "wi-1");
    const err = await failure(handler({ action: "cleanup", ...ids, workdir: other, inputDir: join(mount, "node-1", "input", "wi-1") }));
    expect(err).to.include({ name: "UnsafePath", field: "workdir" });
    expect(await exists(join(other, "m_aa11"))).to.equal(true);
  });

  for (const computeNodeId of ["../../../x", "a/b c", "", "Node_1"])
    it(`refuses the computeNodeId ${JSON.stringify(computeNodeId)} by the id pattern, naming the field`, async () => {
      const { work, handler } = await efs();
      const err = await failure(handler({ action: "cleanup", computeNodeId, workflowInstanceId: "wi-1", workdir: work, inputDir: work }));
      expect(err).to.be.instanceOf(TransferInputError);
      expect(err?.field).to.equal("computeNodeId");
      expect(await exists(join(work, "m_cc33"))).to.equal(true);
    });

  for (const workflowInstanceId of ["..", "wi-1/../wi-2", "-wi", "x".repeat(81)])
    it(`refuses the workflowInstanceId ${JSON.stringify(workflowInstanceId.slice(0, 20))} by the id pattern`, async () => {
      const { handler, work } = await efs();
      const err = await failure(handler({ action: "cleanup", computeNodeId: "node-1", workflowInstanceId, workdir: work, inputDir: work }));
      expect(err?.field).to.equal("workflowInstanceId");
    });

  it("requires the paths of the ids the payload names: wi-1's ids cannot reach wi-2's directories", async () => {
    const { mount, handler, ids } = await efs();
    await mkdir(join(mount, "node-1", "workdir", "wi-2", "m_ee55"), { recursive: true });
    const err = await failure(handler({ action: "cleanup", ...ids, workdir: join(mount, "node-1", "workdir", "wi-2"), inputDir: join(mount, "node-1", "input", "wi-1") }));
    expect(err).to.include({ name: "UnsafePath", field: "workdir" });
    expect(await exists(join(mount, "node-1", "workdir", "wi-2", "m_ee55"))).to.equal(true);
  });

  it("refuses payloads for another node when the function knows which node it serves", async () => {
    const { root, mount } = await efs();
    const handler = createDataTransferHandler({ efsMountPath: mount, computeNodeId: "node-1", s3: {} as never });
    const w = join(mount, "node-2", "workdir", "wi-1");
    const err = await failure(handler({ action: "cleanup", computeNodeId: "node-2", workflowInstanceId: "wi-1", workdir: w, inputDir: join(mount, "node-2", "input", "wi-1") }));
    expect(err).to.include({ name: "UnsafePath", field: "computeNodeId" });
    expect(await exists(join(w, "m_aa11"))).to.equal(true);
    await rm(root, { recursive: true, force: true });
  });

  it("refuses a path whose parent is a symbolic link, even one that looks like the execution's own workdir", async () => {
    const { mount, outside, handler } = await efs();
    await mkdir(join(mount, "node-1", "workdir"), { recursive: true });
    await mkdir(join(outside, "m_ff66"));
    await symlink(outside, join(mount, "node-1", "workdir", "wi-3"));
    const err = await failure(handler({ action: "cleanup", computeNodeId: "node-1", workflowInstanceId: "wi-3", workdir: join(mount, "node-1", "workdir", "wi-3"), inputDir: join(mount, "node-1", "input", "wi-3") }));
    expect(err).to.include({ name: "UnsafePath", field: "workdir" });
    expect(err?.message).to.contain("symbolic link");
    expect(await exists(join(outside, "m_ff66"))).to.equal(true);
  });

  it("refuses a merge source that a processor replaced by a link to somewhere else", async () => {
    const { work, outside, merge } = await efs();
    await rm(join(work, "bb22"), { recursive: true });
    await symlink(outside, join(work, "bb22"));
    const err = await failure(merge());
    expect(err).to.include({ name: "UnsafePath", field: "sources[1].dir" });
    expect(await exists(join(work, "m_dd44"))).to.equal(false);
  });

  it("refuses a target that is not a merge dir, so a merge can never rebuild (delete) an OUTPUT_DIR", async () => {
    const { work, merge } = await efs();
    const err = await failure(merge({ targetDir: join(work, "aa11") }));
    expect(err).to.include({ name: "UnsafePath", field: "targetDir" });
    expect(await readFile(join(work, "aa11", "a.txt"), "utf8")).to.equal("a");
  });

  it("refuses a local input on AWS, where an execution input could name /proc/self/environ", async () => {
    const { input, handler, ids } = await efs();
    const err = await failure(handler({ action: "download", ...ids, targetDir: input, inputs: ["s3://bucket/x", "/proc/self/environ"] }));
    expect(err).to.include({ name: "UnsafePath", field: "inputs[1]" });
    expect(await readdir(input)).to.deep.equal(["in.txt"]);
  });

  it("fails closed when the EFS mount point does not exist", async () => {
    const handler = createDataTransferHandler({ efsMountPath: join(tmpdir(), "cn-no-such-mount"), s3: {} as never });
    const err = await failure(handler({ action: "cleanup", computeNodeId: "n", workflowInstanceId: "w", workdir: "/x", inputDir: "/y" }));
    expect(err).to.be.instanceOf(TransferInputError);
    expect(err?.message).to.contain("not mounted");
  });
});

describe("merge symlink confinement", () => {
  for (const [label, link] of [
    ["/etc/passwd", () => "/etc/passwd"],
    ["/", () => "/"],
    ["..", () => ".."],
    ["a merge dir", () => "../m_cc33"],
    ["another execution", (mount: string) => join(mount, "node-2", "workdir", "wi-1", "m_aa11")],
  ] as const)
    it(`fails with UnsafeSymlink naming the processor and the file when an output links to ${label}`, async () => {
      const { work, mount, merge } = await efs();
      await symlink(link(mount), join(work, "bb22", "escape"));
      const err = await failure(merge());
      expect(err).to.be.instanceOf(UnsafeSymlinkError);
      expect(err).to.include({ name: "UnsafeSymlink", code: "unsafe_symlink", processorId: "b", file: "escape" });
      expect(err?.message).to.contain('"d"').and.contain('"b"').and.contain('"escape"');
      expect(await exists(join(work, "m_dd44"))).to.equal(false);
    });

  it("fails on a link that does not resolve", async () => {
    const { work, merge } = await efs();
    await symlink(join(work, "nowhere"), join(work, "bb22", "dangling"));
    expect(await failure(merge())).to.include({ name: "UnsafeSymlink", file: "dangling" });
  });

  it("merges links that stay inside the execution's workdir or input", async () => {
    const { work, input, merge } = await efs();
    await symlink("../aa11/a.txt", join(work, "bb22", "alias.txt"));
    await symlink(join(input, "in.txt"), join(work, "bb22", "raw.txt"));
    const result = await merge();
    expect(result).to.deep.include({ entries: 4 });
    expect(await readFile(join(work, "m_dd44", "alias.txt"), "utf8")).to.equal("a");
    expect(await readFile(join(work, "m_dd44", "raw.txt"), "utf8")).to.equal("in");
  });
});

describe("merge result size", () => {
  it("stays far below the 256 KiB task result limit for a 2×5,000-file fan-in", async function () {
    this.timeout(120_000);
    const { work, merge } = await efs();
    for (const dir of ["aa11", "bb22"]) await Promise.all(Array.from({ length: 5000 }, (_, i) => writeFile(join(work, dir, `${dir}-${"long-name-".repeat(8)}${i}.dat`), "")));
    const result = (await merge()) as { entries: number; sources: number; sample: unknown[] };
    expect(result.entries).to.equal(10_002);
    expect(result.sources).to.equal(2);
    expect(result.sample).to.have.length(50);
    expect(Buffer.byteLength(JSON.stringify(result))).to.be.below(16 * 1024);
    expect(await readdir(join(work, "m_dd44"))).to.have.length(10_002);
  });
});

describe("download symlink confinement", () => {
  async function localInput() {
    const env = await efs();
    const src = join(env.root, "input-src");
    await mkdir(join(src, "sub"), { recursive: true });
    await writeFile(join(src, "sub", "data.txt"), "data");
    const download = (inputs: string[]) => handleTransfer({ action: "download", computeNodeId: "node-1", workflowInstanceId: "wi-9", targetDir: join(env.mount, "node-1", "input", "wi-9"), inputs }, { efsMountPath: env.mount, localInputRoots: [src] });
    return { ...env, src, download, target: join(env.mount, "node-1", "input", "wi-9") };
  }

  it("does not copy what a link inside the input points to outside it, and fails with UnsafeSymlink", async () => {
    const { src, outside, download, target } = await localInput();
    await symlink(join(outside, "precious.txt"), join(src, "sub", "stolen.txt"));
    const err = await failure(download([src]));
    expect(err).to.include({ name: "UnsafeSymlink", file: "sub/stolen.txt" });
    expect(await exists(join(target, "sub", "stolen.txt"))).to.equal(false);
  });

  it("copies a link that stays inside the input as a relative link to the copy", async () => {
    const { src, download, target } = await localInput();
    await symlink(join(src, "sub", "data.txt"), join(src, "alias.txt"));
    await download([src]);
    expect((await lstat(join(target, "alias.txt"))).isSymbolicLink()).to.equal(true);
    expect(await readlink(join(target, "alias.txt"))).to.equal(join("sub", "data.txt"));
    expect(await readFile(join(target, "alias.txt"), "utf8")).to.equal("data");
  });

  it("refuses a local input outside the roots the runtime allows", async () => {
    const { outside, download } = await localInput();
    const err = await failure(download([outside]));
    expect(err).to.include({ name: "UnsafePath", field: "inputs[0]" });
  });

  it("reports every refusal as a typed compute-node error", async () => {
    const { outside, download } = await localInput();
    expect(isComputeNodeError(await failure(download([outside])))).to.equal(true);
  });
});
