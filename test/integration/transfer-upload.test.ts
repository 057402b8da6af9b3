import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { handleTransfer, TransferHandlerOptions } from "../../lib/integrations/transfer/handler";
import { createDataTransferHandler } from "../../lib/integrations/transfer/lambda";
import { UploadResult } from "../../lib/integrations/transfer/upload";
import { useMoto } from "./moto";
import { sdkConfig } from "./fixtures";

const NODE = "node-1";
const WID = "wi-1";
const BUCKET = "results-bucket";
const MIB = 1024 * 1024;

describe("upload to S3 (data-transfer action, against moto)", function () {
  this.timeout(60000);
  const moto = useMoto();
  let s3: S3Client;
  let root: string;
  let efs: string;
  let workdir: string;
  beforeEach(async () => {
    s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    root = await mkdtemp(join(tmpdir(), "cn-upload-s3-"));
    efs = join(root, "efs");
    workdir = join(efs, NODE, "workdir", WID);
    await mkdir(join(efs, NODE, "input", WID), { recursive: true });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const output = async (hash: string, files: Record<string, Buffer>) => {
    for (const [rel, content] of Object.entries(files)) {
      await mkdir(join(workdir, hash, rel, ".."), { recursive: true });
      await writeFile(join(workdir, hash, rel), content);
    }
  };
  const payload = (destination: string, sources: { processorId: string; hash: string }[]) => ({ action: "upload", computeNodeId: NODE, workflowInstanceId: WID, workdir, destination, sources });
  const upload = (destination: string, sources: { processorId: string; hash: string }[], extra: Partial<TransferHandlerOptions> = {}) =>
    handleTransfer(payload(destination, sources), { efsMountPath: efs, computeNodeId: NODE, outputS3: s3, ...extra }) as Promise<{ action: "upload" } & UploadResult>;
  const read = async (key: string, bucket = BUCKET) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const keys = async (bucket = BUCKET) => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();
  const incomplete = async (bucket = BUCKET) => (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];

  it("uploads every sink's files to s3://bucket/run-1/<processorId>/ and every object reads back equal", async () => {
    const files = { a: { "result.csv": Buffer.from("x,y\n1,2\n"), "deep/model.bin": randomBytes(300_000), "empty.txt": Buffer.alloc(0) }, b: { "report.md": Buffer.from("# done") } };
    await output("a1", files.a);
    await output("b2", files.b);
    const result = await upload(`s3://${BUCKET}/run-1`, [
      { processorId: "train", hash: "a1" },
      { processorId: "report", hash: "b2" },
    ]);
    expect(await keys()).to.deep.equal(["run-1/report/report.md", "run-1/train/deep/model.bin", "run-1/train/empty.txt", "run-1/train/result.csv"]);
    for (const [rel, content] of Object.entries(files.a)) expect(await read(`run-1/train/${rel}`), rel).to.deep.equal(content);
    expect(await read("run-1/report/report.md")).to.deep.equal(files.b["report.md"]);
    expect(result).to.deep.include({ action: "upload", destination: `s3://${BUCKET}/run-1/`, files: 4, bytes: 8 + 300_000 + 6, skipped: 0, processorCount: 2 });
    expect(result.processors).to.deep.equal([
      { processorId: "train", destination: `s3://${BUCKET}/run-1/train/`, files: 3, bytes: 300_008 },
      { processorId: "report", destination: `s3://${BUCKET}/run-1/report/`, files: 1, bytes: 6 },
    ]);
    expect(result.sample).to.deep.equal([`s3://${BUCKET}/run-1/train/deep/model.bin`, `s3://${BUCKET}/run-1/train/empty.txt`, `s3://${BUCKET}/run-1/train/result.csv`, `s3://${BUCKET}/run-1/report/report.md`]);
  });

  it("uploads a large file by multipart (5 MiB parts) and leaves no incomplete upload", async () => {
    const big = randomBytes(11 * MIB + 123);
    await output("a1", { "big.bin": big, "small.txt": Buffer.from("s") });
    const sent: string[] = [];
    const recording = { send: (command: { constructor: { name: string } }) => (sent.push(command.constructor.name), s3.send(command as never)) } as unknown as S3Client;
    const result = await upload(`s3://${BUCKET}/run-1/`, [{ processorId: "p", hash: "a1" }], { outputS3: recording, uploadTuning: { multipartThresholdBytes: 5 * MIB, partSizeBytes: 5 * MIB, concurrency: 2 } });
    expect(result).to.deep.include({ files: 2, bytes: big.length + 1 });
    expect(sent.filter((c) => c !== "PutObjectCommand")).to.deep.equal(["CreateMultipartUploadCommand", "UploadPartCommand", "UploadPartCommand", "UploadPartCommand", "CompleteMultipartUploadCommand"]);
    expect(sent.filter((c) => c === "PutObjectCommand")).to.have.length(1);
    expect(await read("run-1/p/big.bin")).to.deep.equal(big);
    expect(await read("run-1/p/small.txt")).to.deep.equal(Buffer.from("s"));
    expect(await incomplete()).to.deep.equal([]);
  });

  it("fails with UploadFailed naming the object and the S3 error when the bucket does not exist", async () => {
    await output("a1", { "f.txt": Buffer.from("f") });
    const err = await upload("s3://no-such-bucket/run-1/", [{ processorId: "p", hash: "a1" }]).then(
      () => expect.fail("the upload should fail"),
      (e: Error & { s3Error?: string; destination?: string }) => e,
    );
    expect(err).to.deep.include({ name: "UploadFailed", s3Error: "NoSuchBucket", destination: "s3://no-such-bucket/run-1/p/f.txt" });
    expect(err.message).to.contain("s3://no-such-bucket/run-1/p/f.txt").and.contain("NoSuchBucket");
  });

  it("aborts a multipart upload that fails midway, leaving no incomplete upload behind", async () => {
    // moto refuses a part under 5 MiB that is not the last one when the upload completes: the completion fails.
    await output("a1", { "big.bin": randomBytes(3 * MIB) });
    const sent: string[] = [];
    const recording = { send: (command: { constructor: { name: string } }) => (sent.push(command.constructor.name), s3.send(command as never)) } as unknown as S3Client;
    const err = await upload(`s3://${BUCKET}/run-1/`, [{ processorId: "p", hash: "a1" }], { outputS3: recording, uploadTuning: { multipartThresholdBytes: MIB, partSizeBytes: MIB } }).then(
      () => expect.fail("the upload should fail"),
      (e: Error & { s3Error?: string }) => e,
    );
    expect(err).to.deep.include({ name: "UploadFailed", s3Error: "EntityTooSmall" });
    expect(err.message).to.contain(`s3://${BUCKET}/run-1/p/big.bin`).and.contain("EntityTooSmall");
    expect(sent.slice(-2)).to.deep.equal(["CompleteMultipartUploadCommand", "AbortMultipartUploadCommand"]);
    expect(await incomplete()).to.deep.equal([]);
    expect(await keys()).to.deep.equal([]);
  });

  it("the Lambda entry uploads with the S3 client it is given", async () => {
    const content = randomBytes(1000);
    await output("a1", { "out/r.bin": content });
    const handler = createDataTransferHandler({ efsMountPath: efs, computeNodeId: NODE, s3, env: {} });
    const result = await handler(payload(`s3://${BUCKET}/lambda-run/`, [{ processorId: "p", hash: "a1" }]));
    expect(result).to.deep.include({ action: "upload", destination: `s3://${BUCKET}/lambda-run/`, files: 1, bytes: 1000 });
    expect(await read("lambda-run/p/out/r.bin")).to.deep.equal(content);
    // The Lambda writes no local directory.
    const local = await handler(payload(join(root, "out"), [{ processorId: "p", hash: "a1" }])).then(
      () => expect.fail("a local destination should be refused"),
      (e: Error) => e,
    );
    expect(local).to.deep.include({ name: "UnsafePath", field: "destination" });
  });
});
