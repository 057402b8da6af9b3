import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { handleTransfer, TransferHandlerOptions } from "../../../lib/integrations/transfer/handler";
import { UploadResult } from "../../../lib/integrations/transfer/upload";
import { uploadTask } from "../../../lib/integrations/transfer/asl";
import { LAMBDA_TRANSIENT } from "../../../lib/compile/asl/retry";

const NODE = "node-1";
const WID = "wi-1";

/** A temporary EFS stand-in with one execution, a results root, and a directory outside both. */
async function layout() {
  const root = await mkdtemp(join(tmpdir(), "cn-upload-"));
  const efs = join(root, "efs");
  const workdir = join(efs, NODE, "workdir", WID);
  const inputDir = join(efs, NODE, "input", WID);
  const out = join(root, "out");
  const outside = join(root, "outside");
  for (const dir of [workdir, inputDir, out, outside]) await mkdir(dir, { recursive: true });
  const output = async (hash: string, files: Record<string, string | Buffer>) => {
    await mkdir(join(workdir, hash), { recursive: true });
    for (const [rel, content] of Object.entries(files)) {
      await mkdir(join(workdir, hash, rel, ".."), { recursive: true });
      await writeFile(join(workdir, hash, rel), content);
    }
    return join(workdir, hash);
  };
  const options = (extra: Partial<TransferHandlerOptions> = {}): TransferHandlerOptions => ({ efsMountPath: efs, computeNodeId: NODE, localOutputRoots: [out], ...extra });
  const upload = (destination: string, sources: { processorId: string; hash: string }[], extra: Partial<TransferHandlerOptions> = {}) =>
    handleTransfer({ action: "upload", computeNodeId: NODE, workflowInstanceId: WID, workdir, destination, sources }, options(extra)) as Promise<{ action: "upload" } & UploadResult>;
  const refusal = (destination: string, sources: { processorId: string; hash: string }[], extra: Partial<TransferHandlerOptions> = {}) =>
    upload(destination, sources, extra).then(
      () => expect.fail("the upload should have been refused"),
      (err: Error & { field?: string }) => err,
    );
  return { root, efs, workdir, inputDir, out, outside, output, upload, refusal };
}

/** Every file below `dir`, as posix relative paths, sorted. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const info = await lstat(join(dir, name));
    if (info.isDirectory()) found.push(...(await tree(join(dir, name), `${prefix}${name}/`)));
    else found.push(`${prefix}${name}`);
  }
  return found;
}

describe("upload (data-transfer action)", () => {
  let l: Awaited<ReturnType<typeof layout>>;
  beforeEach(async () => (l = await layout()));
  afterEach(() => rm(l.root, { recursive: true, force: true }));

  it("copies every sink's nested files to <destination>/<processorId>/ with identical bytes, and answers counts and a sample", async () => {
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    await l.output("a1", { "result.csv": "x,y\n1,2\n", "deep/er/data.bin": binary, "empty.txt": "" });
    await l.output("b2", { "report.md": "# done" });
    const dest = join(l.out, "run-1");
    const result = await l.upload(dest, [
      { processorId: "train", hash: "a1" },
      { processorId: "report", hash: "b2" },
    ]);
    expect(await tree(dest)).to.deep.equal(["report/report.md", "train/deep/er/data.bin", "train/empty.txt", "train/result.csv"]);
    expect(await readFile(join(dest, "train", "deep", "er", "data.bin"))).to.deep.equal(binary);
    expect(await readFile(join(dest, "train", "result.csv"), "utf8")).to.equal("x,y\n1,2\n");
    expect(await readFile(join(dest, "report", "report.md"), "utf8")).to.equal("# done");
    expect(result).to.deep.equal({
      action: "upload",
      destination: dest,
      files: 4,
      bytes: binary.length + 8 + 6,
      skipped: 0,
      processorCount: 2,
      processors: [
        { processorId: "train", destination: `${join(dest, "train")}/`, files: 3, bytes: binary.length + 8 },
        { processorId: "report", destination: `${join(dest, "report")}/`, files: 1, bytes: 6 },
      ],
      sample: [join(dest, "train", "deep", "er", "data.bin"), join(dest, "train", "empty.txt"), join(dest, "train", "result.csv"), join(dest, "report", "report.md")],
    });
    // Nothing is left in the processors' outputs or beside the results: no temporary file survives.
    expect(await tree(join(l.workdir, "a1"))).to.deep.equal(["deep/er/data.bin", "empty.txt", "result.csv"]);
  });

  it("accepts a file:// destination and normalises it to the resolved directory", async () => {
    await l.output("a1", { "f.txt": "f" });
    const result = await l.upload(pathToFileURL(join(l.out, "via-url")).href, [{ processorId: "p", hash: "a1" }]);
    expect(result.destination).to.equal(join(l.out, "via-url"));
    expect(await readFile(join(l.out, "via-url", "p", "f.txt"), "utf8")).to.equal("f");
  });

  it("follows links into another processor's output and into the input dir, uploading the content under the link's name", async () => {
    await l.output("b2", { "shared.txt": "from b", "sub/inner.txt": "inner" });
    await writeFile(join(l.inputDir, "in.txt"), "input");
    const a = await l.output("a1", { "own.txt": "a" });
    await symlink(join(l.workdir, "b2", "shared.txt"), join(a, "file-link"));
    await symlink("../b2/sub", join(a, "dir-link"));
    await symlink(join(l.inputDir, "in.txt"), join(a, "input-link"));
    // A link back to the output itself ends instead of looping.
    await symlink(".", join(a, "loop"));
    const result = await l.upload(l.out, [{ processorId: "a", hash: "a1" }]);
    expect(await tree(join(l.out, "a"))).to.deep.equal(["dir-link/inner.txt", "file-link", "input-link", "own.txt"]);
    expect((await lstat(join(l.out, "a", "file-link"))).isFile()).to.equal(true);
    expect(await readFile(join(l.out, "a", "file-link"), "utf8")).to.equal("from b");
    expect(await readFile(join(l.out, "a", "input-link"), "utf8")).to.equal("input");
    expect(result).to.deep.include({ files: 4, skipped: 1 });
  });

  for (const [what, target] of [
    ["/etc/hostname", "/etc/hostname"],
    ["another execution's output", "../../wi-2/c3/secret.txt"],
    ["a file outside EFS", "OUTSIDE"],
    ["nothing (dangling)", "missing-target"],
  ] as const)
    it(`fails with UnsafeSymlink on a link to ${what}, and writes nothing it read from there`, async () => {
      await mkdir(join(l.efs, NODE, "workdir", "wi-2", "c3"), { recursive: true });
      await writeFile(join(l.efs, NODE, "workdir", "wi-2", "c3", "secret.txt"), "SECRET-OF-WI-2");
      await writeFile(join(l.outside, "secret.txt"), "SECRET-OUTSIDE");
      const a = await l.output("a1", { "ok.txt": "fine" });
      await symlink(target === "OUTSIDE" ? join(l.outside, "secret.txt") : target, join(a, "leak"));
      const err = await l.refusal(l.out, [{ processorId: "a", hash: "a1" }]);
      expect(err.name).to.equal("UnsafeSymlink");
      expect(err).to.deep.include({ processorId: "a", file: "leak" });
      expect(err.message).to.contain('processor "a"').and.contain('"leak"');
      // The links are checked before anything is written: no file of the run reached the destination.
      expect(await tree(l.out)).to.deep.equal([]);
    });

  it("skips a FIFO without opening it", async function () {
    const a = await l.output("a1", { "ok.txt": "fine" });
    if (spawnSync("mkfifo", [join(a, "pipe")]).status !== 0) this.skip();
    const result = await l.upload(l.out, [{ processorId: "a", hash: "a1" }]);
    expect(result).to.deep.include({ files: 1, skipped: 1 });
    expect(await tree(join(l.out, "a"))).to.deep.equal(["ok.txt"]);
  });

  it("refuses a local destination outside localOutputRoots, and every local destination without roots, writing nothing", async () => {
    await l.output("a1", { "f.txt": "f" });
    const sources = [{ processorId: "p", hash: "a1" }];
    const outside = await l.refusal(join(l.outside, "res"), sources);
    expect(outside).to.deep.include({ name: "UnsafePath", field: "destination" });
    // `..` and a link inside the root are compared as real paths.
    expect(await l.refusal(`${l.out}/../outside/res`, sources)).to.deep.include({ name: "UnsafePath", field: "destination" });
    await symlink(l.outside, join(l.out, "escape"));
    expect(await l.refusal(join(l.out, "escape", "res"), sources)).to.deep.include({ name: "UnsafePath", field: "destination" });
    // A dangling link on the way would be followed by mkdir.
    await symlink(join(l.outside, "not-yet"), join(l.out, "dangling"));
    expect(await l.refusal(join(l.out, "dangling", "res"), sources)).to.deep.include({ name: "UnsafePath", field: "destination" });
    // Into EFS itself is not off the node.
    expect(await l.refusal(join(l.efs, "elsewhere"), sources, { localOutputRoots: [l.root] })).to.deep.include({ name: "UnsafePath", field: "destination" });
    const noRoots = await l.refusal(join(l.out, "res"), sources, { localOutputRoots: undefined });
    expect(noRoots).to.deep.include({ name: "UnsafePath", field: "destination" });
    expect(noRoots.message).to.contain("this runtime uploads only to s3:// destinations");
    expect(await readdir(l.outside)).to.deep.equal([]);
    expect(await readdir(l.out)).to.have.members(["escape", "dangling"]);
    expect(await readdir(l.efs)).to.deep.equal([NODE]);
  });

  it("refuses relative and unsupported destinations", async () => {
    await l.output("a1", { "f.txt": "f" });
    const sources = [{ processorId: "p", hash: "a1" }];
    for (const destination of ["results/run-1", "./out", "..", "https://example.com/x"]) {
      const err = await l.refusal(destination, sources);
      expect(err.name, destination).to.be.oneOf(["UnsafePath", "TransferInputError"]);
      expect(err.field, destination).to.equal("destination");
    }
    expect((await l.refusal("results/run-1", sources)).name).to.equal("UnsafePath");
  });

  it("refuses bad bucket names and key prefixes, and s3:// without an S3 client", async () => {
    await l.output("a1", { "f.txt": "f" });
    const sources = [{ processorId: "p", hash: "a1" }];
    const s3 = { outputS3: { send: async () => expect.fail("nothing may be sent") } as never };
    for (const destination of ["s3://ab/x/", "s3://Upper/x/", "s3://-bucket/x/", "s3://bucket-/x/", "s3://buck_et/x/", "s3://a..b/x/", `s3://${"a".repeat(64)}/x/`, "s3:///x/"]) {
      const err = await l.refusal(destination, sources, s3);
      expect(err, destination).to.deep.include({ name: "TransferInputError", field: "destination" });
      expect(err.message, destination).to.contain("not an S3 bucket name");
    }
    for (const destination of ["s3://bucket/a//b/", "s3://bucket/a/../b/", "s3://bucket/./b", "s3://bucket//"])
      expect(await l.refusal(destination, sources, s3), destination).to.deep.include({ name: "UnsafePath", field: "destination" });
    const noClient = await l.refusal("s3://bucket/run-1/", sources);
    expect(noClient).to.deep.include({ name: "TransferInputError", field: "destination" });
    expect(noClient.message).to.contain("this runtime has no S3 client");
  });

  it("refuses a missing source dir naming the processor, and a source hash that is not one", async () => {
    await l.output("a1", { "f.txt": "f" });
    const missing = await l.refusal(l.out, [
      { processorId: "p", hash: "a1" },
      { processorId: "never-ran", hash: "dead" },
    ]);
    expect(missing).to.deep.include({ name: "TransferInputError", field: "sources[1].hash" });
    expect(missing.message).to.contain(`processor "never-ran"'s output dir ${join(l.workdir, "dead")} does not exist (did it run?)`);
    for (const hash of ["../a1", "m_a1", "A1", ""]) expect(await l.refusal(l.out, [{ processorId: "p", hash }]), hash).to.deep.include({ name: "UnsafePath", field: "sources[0].hash" });
    // An OUTPUT_DIR replaced by a link is not an output.
    await symlink(l.outside, join(l.workdir, "beef"));
    expect(await l.refusal(l.out, [{ processorId: "p", hash: "beef" }])).to.deep.include({ name: "UnsafePath", field: "sources[0].hash" });
    expect(await l.refusal(l.out, [])).to.deep.include({ name: "TransferInputError", field: "sources" });
    expect(await tree(l.out)).to.deep.equal([]);
  });

  it("refuses duplicate processor ids and ids that are not one path segment", async () => {
    await l.output("a1", { "f.txt": "f" });
    await l.output("b2", { "g.txt": "g" });
    const dup = await l.refusal(l.out, [
      { processorId: "p", hash: "a1" },
      { processorId: "p", hash: "b2" },
    ]);
    expect(dup).to.deep.include({ name: "TransferInputError", field: "sources[1].processorId" });
    for (const processorId of ["..", ".", "", "a/b", "a\\b", "a\0b", "x".repeat(256)]) {
      const err = await l.refusal(l.out, [{ processorId, hash: "a1" }]);
      expect(err, JSON.stringify(processorId)).to.deep.include({ name: "UnsafePath", field: "sources[0].processorId" });
    }
    expect(await readdir(l.out)).to.deep.equal([]);
    expect(await readdir(l.root)).to.have.members(["efs", "out", "outside"]);
  });

  it("answers a bounded result for 200 sinks of 3 files each", async () => {
    const sources = [];
    for (let i = 0; i < 200; i++) {
      const hash = i.toString(16).padStart(4, "0");
      await l.output(hash, { "a.txt": "a", "b/c.txt": "bc", "d.txt": "ddd" });
      sources.push({ processorId: `processor-${i}`, hash });
    }
    const result = await l.upload(join(l.out, "many"), sources);
    expect(result).to.deep.include({ files: 600, bytes: 1200, processorCount: 200, skipped: 0 });
    expect(result.processors).to.have.length(50);
    expect(result.processors[49]).to.deep.equal({ processorId: "processor-49", destination: `${join(l.out, "many", "processor-49")}/`, files: 3, bytes: 6 });
    expect(result.sample).to.have.length(50);
    expect(result.sample[0]).to.equal(join(l.out, "many", "processor-0", "a.txt"));
    expect(JSON.stringify(result).length).to.be.below(16 * 1024);
    expect((await tree(join(l.out, "many"))).length).to.equal(600);
  });

  it("replaces an existing file at the target, and replaces a planted link there without following it", async () => {
    await l.output("a1", { "result.txt": "new", "linked.txt": "new too" });
    await mkdir(join(l.out, "p"), { recursive: true });
    await writeFile(join(l.out, "p", "result.txt"), "old result");
    await writeFile(join(l.outside, "victim.txt"), "untouched");
    await symlink(join(l.outside, "victim.txt"), join(l.out, "p", "linked.txt"));
    await l.upload(l.out, [{ processorId: "p", hash: "a1" }]);
    expect(await readFile(join(l.out, "p", "result.txt"), "utf8")).to.equal("new");
    expect((await lstat(join(l.out, "p", "linked.txt"))).isSymbolicLink()).to.equal(false);
    expect(await readFile(join(l.out, "p", "linked.txt"), "utf8")).to.equal("new too");
    expect(await readFile(join(l.outside, "victim.txt"), "utf8")).to.equal("untouched");
    expect(await readdir(join(l.out, "p"))).to.have.members(["result.txt", "linked.txt"]);
  });

  describe("to S3 (a stand-in client)", () => {
    /** Reads each body to the end, as S3 would, and answers what `answer` says for that request. */
    const fakeS3 = (answer: (name: string, n: number) => Error | undefined) => {
      const bodies: { name: string; key: string; body: Buffer }[] = [];
      let n = 0;
      const send = async (command: { constructor: { name: string }; input: { Key: string; Body?: AsyncIterable<Buffer> | Uint8Array } }) => {
        const { Body } = command.input;
        const chunks: Buffer[] = [];
        if (Body instanceof Uint8Array) chunks.push(Buffer.from(Body));
        else if (Body) for await (const chunk of Body) chunks.push(chunk);
        bodies.push({ name: command.constructor.name, key: command.input.Key, body: Buffer.concat(chunks) });
        const err = answer(command.constructor.name, n++);
        if (err) throw err;
        return { ETag: `"etag-${n}"`, UploadId: "upload-1" };
      };
      return { outputS3: { send } as never, bodies };
    };
    const s3Error = (name: string, status: number) => Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });

    it("re-reads a file from disk and sends it again when S3 answers a transient error (the SDK does not retry a stream)", async () => {
      const content = Buffer.from("the result, all of it");
      await l.output("a1", { "r.txt": content });
      const s3 = fakeS3((_, n) => (n === 0 ? s3Error("SlowDown", 503) : undefined));
      const result = await l.upload("s3://bucket/run-1/", [{ processorId: "p", hash: "a1" }], { outputS3: s3.outputS3 });
      expect(result).to.deep.include({ destination: "s3://bucket/run-1/", files: 1, bytes: content.length, sample: ["s3://bucket/run-1/p/r.txt"] });
      expect(s3.bodies.map((b) => [b.name, b.key, b.body.toString()])).to.deep.equal([
        ["PutObjectCommand", "run-1/p/r.txt", content.toString()],
        ["PutObjectCommand", "run-1/p/r.txt", content.toString()],
      ]);
    });

    it("names the object, the S3 error and the node's outputBucketArns on AccessDenied, never the file's content", async () => {
      await l.output("a1", { "r.txt": "CONTENT-NEVER-IN-MESSAGES" });
      const s3 = fakeS3(() => s3Error("AccessDenied", 403));
      const err = (await l.refusal("s3://bucket/run-1/", [{ processorId: "p", hash: "a1" }], { outputS3: s3.outputS3 })) as Error & { s3Error?: string; destination?: string };
      expect(err).to.deep.include({ name: "UploadFailed", s3Error: "AccessDenied", destination: "s3://bucket/run-1/p/r.txt", processorId: "p" });
      expect(err.message).to.contain("s3://bucket/run-1/p/r.txt").and.contain("AccessDenied").and.contain("outputBucketArns").and.contain("compute-node node up");
      expect(err.message).to.not.contain("CONTENT-NEVER");
      expect(s3.bodies).to.have.length(1);
    });

    it("aborts a multipart upload whose part S3 refuses, and sends parts of at least ceil(size / 10000) bytes", async () => {
      await l.output("a1", { "big.bin": Buffer.alloc(10_001, 7) });
      const ok = fakeS3(() => undefined);
      await l.upload("s3://bucket/", [{ processorId: "p", hash: "a1" }], { outputS3: ok.outputS3, uploadTuning: { multipartThresholdBytes: 10, partSizeBytes: 1 } });
      // 1-byte parts would be 10,001 of them, one more than S3 allows: the parts are ceil(10,001 / 10,000) = 2 bytes.
      const parts = ok.bodies.filter((b) => b.name === "UploadPartCommand");
      expect(parts).to.have.length(5001);
      expect(parts.slice(0, -1).every((p) => p.body.length === 2)).to.equal(true);
      expect(Buffer.concat(parts.map((p) => p.body))).to.deep.equal(Buffer.alloc(10_001, 7));
      const failing = fakeS3((name) => (name === "UploadPartCommand" ? s3Error("InvalidPart", 400) : undefined));
      const err = await l.refusal("s3://bucket/", [{ processorId: "p", hash: "a1" }], { outputS3: failing.outputS3, uploadTuning: { multipartThresholdBytes: 10, partSizeBytes: 10_000 } });
      expect(err).to.deep.include({ name: "UploadFailed", s3Error: "InvalidPart" });
      expect(failing.bodies.map((b) => b.name)).to.deep.equal(["CreateMultipartUploadCommand", "UploadPartCommand", "AbortMultipartUploadCommand"]);
    });
  });

  it("refuses to write through a directory link planted in the destination", async () => {
    await l.output("a1", { "sub/f.txt": "f" });
    await mkdir(join(l.out, "p"));
    await symlink(l.outside, join(l.out, "p", "sub"));
    const err = await l.refusal(l.out, [{ processorId: "p", hash: "a1" }]);
    expect(err).to.deep.include({ name: "UnsafePath", field: "destination" });
    expect(await readdir(l.outside)).to.deep.equal([]);
    expect(await readlink(join(l.out, "p", "sub"))).to.equal(l.outside);
  });

  it("uploadTask sends the sinks and puts every field of the answer but `action` at $.ctx.outputs", async () => {
    await l.output("a1", { "f.txt": "f" });
    const answer = await l.upload(l.out, [{ processorId: "p", hash: "a1" }]);
    const state = uploadTask("arn:aws:lambda:us-east-1:123456789012:function:cn-node-1-data-transfer", NODE, [{ processorId: "p", hash: "a1" }]);
    state.setNext("Cleanup");
    const json = state.toStateJson() as unknown as Record<string, unknown>;
    expect(json).to.deep.include({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: {
        FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:cn-node-1-data-transfer",
        Payload: { action: "upload", computeNodeId: NODE, "workflowInstanceId.$": "$.ctx.workflowInstanceId", "workdir.$": "$.ctx.workdir", "destination.$": "$.outputs", sources: [{ processorId: "p", hash: "a1" }] },
      },
      ResultPath: "$.ctx.outputs",
      TimeoutSeconds: 900,
      Retry: [LAMBDA_TRANSIENT],
      Next: "Cleanup",
    });
    const { action: _action, ...fields } = answer;
    expect(json.ResultSelector).to.deep.equal(Object.fromEntries(Object.keys(fields).map((f) => [`${f}.$`, `$.Payload.${f}`])));
  });
});
