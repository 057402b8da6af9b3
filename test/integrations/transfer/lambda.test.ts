import { expect } from "chai";
import { mkdtemp, mkdir, readFile, readlink, readdir, rm, stat, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { createDataTransferHandler } from "../../../lib/integrations/transfer/lambda";
import { readTokenSecret, tokenSecretName, tokenSecretString } from "../../../lib/integrations/tokens/contract";
import { parseFinalizeEvent } from "../../../lib/integrations/finalize/lambda";

/** An S3 stand-in serving objects from a map, with ListObjectsV2 paginated two keys at a time. */
function fakeS3(objects: Record<string, string>) {
  return {
    send: async (command: { constructor: { name: string }; input: Record<string, string> }) => {
      const { Bucket, Prefix, Key, ContinuationToken } = command.input;
      if (command.constructor.name === "ListObjectsV2Command") {
        const keys = Object.keys(objects).filter((k) => k.startsWith(`${Bucket}/${Prefix}`)).map((k) => k.slice(Bucket.length + 1)).sort();
        const start = Number(ContinuationToken ?? 0);
        return { Contents: keys.slice(start, start + 2).map((k) => ({ Key: k })), NextContinuationToken: start + 2 < keys.length ? String(start + 2) : undefined };
      }
      if (command.constructor.name === "GetObjectCommand") return { Body: Readable.from([Buffer.from(objects[`${Bucket}/${Key}`])]) };
      throw new Error(`unexpected ${command.constructor.name}`);
    },
  } as never;
}

describe("data-transfer handler", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-dt-"));
    await mkdir(join(dir, "efs"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const efs = () => join(dir, "efs", "node-1");

  it("downloads an S3 prefix with its sub-directories and a single S3 object into the input dir", async () => {
    const handler = createDataTransferHandler({ efsMountPath: join(dir, "efs"), s3: fakeS3({ "b/in/x.txt": "x", "b/in/sub/y.txt": "y", "b/in/sub/z.txt": "z", "b/one.csv": "1,2" }) });
    const targetDir = join(efs(), "input", "wi-1");
    const out = await handler({ action: "download", computeNodeId: "node-1", workflowInstanceId: "wi-1", targetDir, inputs: ["s3://b/in/", "s3://b/one.csv"] });
    expect(out).to.deep.include({ action: "download", copied: 4 });
    expect(await readFile(join(targetDir, "sub", "z.txt"), "utf8")).to.equal("z");
    expect(await readFile(join(targetDir, "one.csv"), "utf8")).to.equal("1,2");
  });

  it("refuses an object key that would escape the input dir", async () => {
    const handler = createDataTransferHandler({ efsMountPath: join(dir, "efs"), s3: fakeS3({ "b/in/../../evil": "x" }) });
    const err = await handler({ action: "download", computeNodeId: "node-1", workflowInstanceId: "wi-1", targetDir: join(efs(), "input", "wi-1"), inputs: ["s3://b/in/"] }).then(() => undefined, (e) => e);
    expect(err?.name).to.equal("TransferInputError");
    expect(await readdir(dir)).to.not.include("evil");
  });

  it("merges upstream outputs by symlink and fails with MergeCollision naming both processors", async () => {
    const work = join(efs(), "workdir", "wi-1");
    await mkdir(join(work, "a1"), { recursive: true });
    await mkdir(join(work, "a2"), { recursive: true });
    await writeFile(join(work, "a1", "a.txt"), "a");
    await writeFile(join(work, "a2", "b.txt"), "b");
    const handler = createDataTransferHandler({ efsMountPath: join(dir, "efs"), s3: fakeS3({}) });
    const merged = await handler({ action: "merge", computeNodeId: "node-1", workflowInstanceId: "wi-1", processorId: "join", targetDir: join(work, "m_ff"), sources: [{ processorId: "p1", dir: join(work, "a1") }, { processorId: "p2", dir: join(work, "a2") }] });
    expect(merged).to.deep.include({ action: "merge", entries: 2, sources: 2, sample: [{ name: "a.txt", from: "p1" }, { name: "b.txt", from: "p2" }] });
    expect(await readlink(join(work, "m_ff", "a.txt"))).to.equal(join(work, "a1", "a.txt"));

    await writeFile(join(work, "a2", "a.txt"), "other");
    const err = await handler({ action: "merge", computeNodeId: "node-1", workflowInstanceId: "wi-1", processorId: "join", targetDir: join(work, "m_ee"), sources: [{ processorId: "p1", dir: join(work, "a1") }, { processorId: "p2", dir: join(work, "a2") }] }).then(() => undefined, (e) => e);
    expect(err.name).to.equal("MergeCollision");
    expect(err.message).to.include('"p1"').and.include('"p2"').and.include("a.txt");
    expect(await stat(join(work, "m_ee")).then(() => true, () => false)).to.equal(false);
  });

  it("cleans up merge dirs and the downloaded input but keeps processor outputs", async () => {
    const work = join(efs(), "workdir", "wi-1");
    const input = join(efs(), "input", "wi-1");
    for (const d of [join(work, "ab12"), join(work, "m_ab12"), input]) await mkdir(d, { recursive: true });
    const handler = createDataTransferHandler({ efsMountPath: join(dir, "efs"), s3: fakeS3({}) });
    await handler({ action: "cleanup", computeNodeId: "node-1", workflowInstanceId: "wi-1", workdir: work, inputDir: input });
    expect(await readdir(work)).to.deep.equal(["ab12"]);
    expect(await stat(input).then(() => true, () => false)).to.equal(false);
  });
});

describe("ResolveToken contract", () => {
  it("round-trips the per-execution secret and names it cn/<node>/<workflowInstanceId>", () => {
    const text = tokenSecretString({ sessionToken: "s", refreshToken: "r" });
    expect(JSON.parse(text)).to.deep.equal({ sessionToken: "s", refreshToken: "r" });
    expect(readTokenSecret(text)).to.deep.equal({ sessionToken: "s", refreshToken: "r" });
    expect(tokenSecretName("node-1", "wi-1")).to.equal("cn/node-1/wi-1");
  });

  it("rejects a malformed secret without echoing its value", () => {
    expect(() => readTokenSecret('{"sessionToken": "leak-me"}')).to.throw(TypeError).that.satisfies((e: Error) => !e.message.includes("leak-me"));
    expect(() => readTokenSecret("leak-me")).to.throw(TypeError).that.satisfies((e: Error) => !e.message.includes("leak-me"));
  });
});

describe("finalize payload", () => {
  it("refuses ids that could escape their S3 key", () => {
    expect(() => parseFinalizeEvent({ action: "finalize", computeNodeId: "../x", workflowInstanceId: "wi", status: "SUCCEEDED" })).to.throw(/must not contain/);
    expect(() => parseFinalizeEvent({ action: "finalize", computeNodeId: "n", workflowInstanceId: "wi", status: "MAYBE" })).to.throw(/status/);
  });
});
