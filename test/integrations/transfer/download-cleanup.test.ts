import { expect } from "chai";
import { mkdtemp, mkdir, readFile, readdir, writeFile, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TransferInputError } from "../../../lib/errors";
import { cleanupExecution } from "../../../lib/integrations/transfer/cleanup";
import { downloadInputs } from "../../../lib/integrations/transfer/download";
import { handleTransfer } from "../../../lib/integrations/transfer/handler";

const exists = (path: string) => access(path).then(() => true, () => false);

describe("downloadInputs", () => {
  it("copies the contents of a local input directory into the execution's input dir", async () => {
    const root = await mkdtemp(join(tmpdir(), "cn-dl-"));
    await mkdir(join(root, "src", "sub"), { recursive: true });
    await writeFile(join(root, "src", "a.txt"), "A");
    await writeFile(join(root, "src", "sub", "b.txt"), "B");
    const target = join(root, "efs", "node", "input", "wi-1");
    const result = await downloadInputs({ targetDir: target, inputs: [join(root, "src")] });
    expect(result.copied).to.equal(2);
    expect(await readFile(join(target, "a.txt"), "utf8")).to.equal("A");
    expect(await readFile(join(target, "sub", "b.txt"), "utf8")).to.equal("B");
  });

  it("refuses a remote input when no remote fetcher is given", async () => {
    const root = await mkdtemp(join(tmpdir(), "cn-dl-"));
    let caught: unknown;
    await downloadInputs({ targetDir: join(root, "t"), inputs: ["s3://bucket/prefix/"] }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(TransferInputError);
    expect((caught as Error).message).to.contain("s3://bucket/prefix/");
  });

  it("hands remote inputs to the fetcher it is given", async () => {
    const root = await mkdtemp(join(tmpdir(), "cn-dl-"));
    const result = await downloadInputs({
      targetDir: join(root, "t"),
      inputs: ["s3://bucket/p/"],
      fetchRemote: async (uri, dir) => {
        await writeFile(join(dir, "remote.txt"), uri);
        return 1;
      },
    });
    expect(result.copied).to.equal(1);
    expect(await readFile(join(root, "t", "remote.txt"), "utf8")).to.equal("s3://bucket/p/");
  });
});

describe("cleanupExecution", () => {
  async function layout() {
    const root = await mkdtemp(join(tmpdir(), "cn-clean-"));
    const work = join(root, "node", "workdir", "wi-1");
    const input = join(root, "node", "input", "wi-1");
    for (const dir of [join(work, "abc123"), join(work, "m_abc123"), join(work, "m_def456"), input]) await mkdir(dir, { recursive: true });
    await writeFile(join(work, "abc123", "result.txt"), "keep me");
    await writeFile(join(input, "in.txt"), "input");
    return { work, input };
  }

  it("removes merge dirs and the downloaded input but keeps every OUTPUT_DIR", async () => {
    const { work, input } = await layout();
    const result = await cleanupExecution({ workflowInstanceId: "wi-1", workdir: work, inputDir: input });
    expect(await readdir(work)).to.deep.equal(["abc123"]);
    expect(await readFile(join(work, "abc123", "result.txt"), "utf8")).to.equal("keep me");
    expect(await exists(input)).to.equal(false);
    expect(result.removed).to.equal(3);
  });

  it("refuses a workdir that is not the workflow instance's own", async () => {
    const { work, input } = await layout();
    let caught: unknown;
    await cleanupExecution({ workflowInstanceId: "wi-1", workdir: join(work, ".."), inputDir: input }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(TransferInputError);
    expect(await exists(join(work, "m_abc123"))).to.equal(true);
  });
});

describe("handleTransfer", () => {
  it("rejects an unknown action with the action named", async () => {
    let caught: unknown;
    await handleTransfer({ action: "explode" }, { efsMountPath: "/mnt/efs" }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(TransferInputError);
    expect((caught as Error).message).to.contain('"explode"');
  });

  it("rejects a merge payload whose source lacks a dir", async () => {
    let caught: unknown;
    await handleTransfer({ action: "merge", computeNodeId: "n", workflowInstanceId: "wi-1", processorId: "d", targetDir: "/tmp/x", sources: [{ processorId: "b" }] }, { efsMountPath: "/mnt/efs" }).catch((e) => (caught = e));
    expect((caught as Error).message).to.contain("sources[0]");
  });
});
