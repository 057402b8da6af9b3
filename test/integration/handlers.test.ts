import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { createDataTransferHandler } from "../../lib/integrations/transfer/lambda";
import { createFinalizeHandler } from "../../lib/integrations/finalize/lambda";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { resolvePlan } from "../../lib/plan/resolve";
import { executionSnapshot } from "../../lib/plan/snapshot";
import { useMoto } from "./moto";
import { sdkConfig } from "./fixtures";

describe("Lambda handlers against moto", function () {
  this.timeout(30000);
  const moto = useMoto();
  let s3: S3Client;
  let logs: CloudWatchLogsClient;
  let dir: string;
  beforeEach(async () => {
    s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    logs = new CloudWatchLogsClient(sdkConfig(moto.endpoint));
    dir = await mkdtemp(join(tmpdir(), "cn-handlers-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("downloads an S3 prefix into the execution's input dir", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "inputs" }));
    await s3.send(new PutObjectCommand({ Bucket: "inputs", Key: "ds/1/a.txt", Body: "alpha" }));
    await s3.send(new PutObjectCommand({ Bucket: "inputs", Key: "ds/1/deep/b.txt", Body: "beta" }));
    const targetDir = join(dir, "node", "input", "wi-1");
    const out = await createDataTransferHandler({ s3, efsMountPath: dir })({ action: "download", computeNodeId: "node", workflowInstanceId: "wi-1", targetDir, inputs: ["s3://inputs/ds/1/"] });
    expect(out).to.deep.include({ copied: 2 });
    expect(await readFile(join(targetDir, "deep", "b.txt"), "utf8")).to.equal("beta");
  });

  it("archives the execution's logs and writes a cost report from its record", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "archive" }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/cn/node" }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: "/cn/node", logStreamName: "processor/processor/t1" }));
    const t0 = Date.now();
    await logs.send(new PutLogEventsCommand({ logGroupName: "/cn/node", logStreamName: "processor/processor/t1", logEvents: [{ timestamp: t0 + 1000, message: "hello" }, { timestamp: t0 + 2000, message: "done" }] }));
    const { clients } = moto;
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("execs")));
    const plan = resolvePlan({ name: "w", processors: [{ id: "p", sourceUrl: "img:1" }] }, { processors: [{ sourceUrl: "img:1", computeTypes: ["lambda"], memory: 2048 }] });
    const store = new DynamoRecordStore({ clients, tableName: "execs" });
    await store.create({
      executionId: "wi-9", workflowInstanceId: "wi-9", backend: "aws", computeNodeId: "node", createdAt: new Date(t0).toISOString(), status: "RUNNING", startedAt: new Date(t0).toISOString(),
      snapshot: executionSnapshot(plan, "h"),
      processors: { p: { status: "SUCCEEDED", startedAt: new Date(t0).toISOString(), finishedAt: new Date(t0 + 10_000).toISOString(), attempts: 1 } },
    });
    await clients.secrets.send(new CreateSecretCommand({ Name: "cn/node/wi-9", SecretString: JSON.stringify({ sessionToken: "s", refreshToken: "r" }) }));
    await clients.secrets.send(new CreateSecretCommand({ Name: "cn/node/wi-other", SecretString: JSON.stringify({ sessionToken: "s", refreshToken: "r" }) }));
    const finalize = createFinalizeHandler({ s3, logs, dynamodb: clients.dynamodb, secrets: clients.secrets, env: { LOG_ARCHIVE_BUCKET: "archive", LOG_GROUP_NAME: "/cn/node", EXECUTION_TABLE: "execs", AWS_REGION: "us-east-1" }, now: () => new Date(t0 + 60_000) });
    const out = await finalize({ action: "finalize", computeNodeId: "node", workflowInstanceId: "wi-9", status: "SUCCEEDED" });
    // No executionArn (a machine compiled before finalize received it): the whole group's time window, as before.
    expect(out).to.deep.equal({
      archive: "log-group",
      logs: "s3://archive/executions/node/wi-9/logs.jsonl",
      archived: ["s3://archive/executions/node/wi-9/logs.jsonl"],
      costReport: "s3://archive/executions/node/wi-9/cost-report.json",
      logEvents: 2,
      tokenSecret: "deleted",
    });
    // Its own token secret is revoked at once; another execution's stays.
    const gone = await clients.secrets.send(new GetSecretValueCommand({ SecretId: "cn/node/wi-9" })).then(() => false, (e: Error) => e.name === "ResourceNotFoundException");
    expect(gone).to.equal(true);
    expect((await clients.secrets.send(new GetSecretValueCommand({ SecretId: "cn/node/wi-other" }))).SecretString).to.be.a("string");
    // A second finalize (a retried Task) still succeeds: deleting a secret that is gone is not an error.
    expect((await finalize({ action: "finalize", computeNodeId: "node", workflowInstanceId: "wi-9", status: "SUCCEEDED" })).tokenSecret).to.be.oneOf(["deleted", "absent"]);
    const archived = await (await s3.send(new GetObjectCommand({ Bucket: "archive", Key: "executions/node/wi-9/logs.jsonl" }))).Body!.transformToString();
    expect(archived.trim().split("\n").map((l) => JSON.parse(l).message)).to.deep.equal(["hello", "done"]);
    const report = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: "archive", Key: "executions/node/wi-9/cost-report.json" }))).Body!.transformToString());
    expect(report.processors).to.have.length(1);
    expect(report.processors[0]).to.deep.include({ processorId: "p", computeType: "lambda", durationSeconds: 10, billedSeconds: 10, attempts: 1 });
    // 10 s × 2 GB × Lambda's GB-second price + one request.
    expect(report.processors[0].usd).to.be.closeTo(10 * 2 * 0.0000166667 + 0.0000002, 1e-9);
    expect(report).to.deep.include({ source: "aws", region: "us-east-1", pricingVersion: "2026-12-02", status: "SUCCEEDED" });
    expect(report.totalUsd).to.be.closeTo(report.lines.reduce((s: number, l: { usd: number }) => s + l.usd, 0), 1e-12);
    // Without the history, transitions and the node's Lambdas are not known, and the group's window is not this execution's log volume.
    expect(report.missing.map((m: { item: string }) => m.item)).to.include.members(["Step Functions state transitions", "CloudWatch Logs ingestion"]);
  });
});
