import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { cli } from "../cli/harness";
import { useMoto } from "./moto";

const example = resolve(__dirname, "../../examples/text-pipeline");

/** `compute-node run --outputs s3://…`: a local run whose results go to S3 (moto), with the credentials of the command's environment. */
describe("compute-node run --outputs s3:// (moto)", function () {
  this.timeout(60000);
  const moto = useMoto();
  // The command's environment only: `run` must take the endpoint and credentials from it, not from process.env.
  const motoEnvironment = () => ({ PATH: process.env.PATH, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });

  it("uploads the sink's outputs under <prefix><workflowInstanceId>/<processorId>/ and records them", async () => {
    await moto.clients.s3!.send(new CreateBucketCommand({ Bucket: "lab-results" }));
    const dir = await mkdtemp(join(tmpdir(), "cn-run-s3-"));
    const env = motoEnvironment();
    const r = await cli(
      ["run", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--input", join(example, "input"), "--workdir", join(dir, "work"), "--outputs", "s3://lab-results/runs/{workflowInstanceId}/", "--json"],
      { env },
    );
    expect(r.code, r.stderr).to.equal(0);
    const record = JSON.parse(r.stdout);
    const prefix = `runs/${record.executionId}/`;
    expect(record.outputs).to.deep.include({ destination: `s3://lab-results/${prefix}`, processorCount: 1 });
    const listed = await moto.clients.s3!.send(new ListObjectsV2Command({ Bucket: "lab-results", Prefix: prefix }));
    expect((listed.Contents ?? []).map((o) => o.Key)).to.include(`${prefix}bundle/bundle.txt`);
    expect(listed.KeyCount).to.equal(record.outputs.files);
    const body = await (await moto.clients.s3!.send(new GetObjectCommand({ Bucket: "lab-results", Key: `${prefix}bundle/bundle.txt` }))).Body!.transformToString();
    expect(body).to.contain("===== report.md =====");
  });

  it("fails the run, keeping its outputs in the workdir, when the bucket does not exist", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-run-s3-"));
    const env = motoEnvironment();
    const r = await cli(
      ["run", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--input", join(example, "input"), "--workdir", join(dir, "work"), "--outputs", "s3://no-such-bucket/x/", "--json"],
      { env },
    );
    expect(r.code).to.equal(1);
    const record = JSON.parse(r.stdout);
    expect(record.status).to.equal("FAILED");
    expect(record.error.error).to.equal("UploadFailed");
    expect(record.error.cause).to.contain("NoSuchBucket");
    expect(Object.values(record.processors).every((p) => (p as { status: string }).status === "SUCCEEDED")).to.equal(true);
  });
});
