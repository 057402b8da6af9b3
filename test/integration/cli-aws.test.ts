import { expect } from "chai";
import { isTerminalExecutionStatus, ExecutionStatus } from "../../lib/model/execution-record";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { main } from "../../lib/cli/main";
import { executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { useMoto } from "./moto";
import { createNodeFunctions, motoNode } from "./fixtures";

describe("compute-node deploy / start / status / cleanup against moto", function () {
  this.timeout(40000);
  const moto = useMoto();
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "cn-cli-aws-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function cli(...argv: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await main(["node", "compute-node", ...argv], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      cwd: dir,
      env: { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1", PENNSIEVE_SESSION_TOKEN: "sess-CLI-TOKEN", PENNSIEVE_REFRESH_TOKEN: "ref-CLI-TOKEN" },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }

  async function files() {
    const { clients } = moto;
    const node = { ...(await motoNode(moto.endpoint, "node-cli")), executionTableName: "cn-cli-executions" };
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("cn-cli-executions")));
    await createNodeFunctions(clients, node);
    await writeFile(join(dir, "node.json"), JSON.stringify(node));
    await writeFile(join(dir, "workflow.json"), JSON.stringify({ name: "cli-wf", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] }));
    await writeFile(join(dir, "processors.json"), JSON.stringify([{ sourceUrl: "img-a:1", computeTypes: ["lambda"] }, { sourceUrl: "img-b:1", computeTypes: ["lambda", "ecs"] }]));
    await writeFile(join(dir, "invocation.json"), JSON.stringify({ workflowInstanceConfiguration: { computeNodeId: "node-cli" } }));
  }

  it("deploys once, redeploys with zero mutating calls, runs to SUCCEEDED and cleans up", async () => {
    await files();
    const first = await cli("deploy", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--json");
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    expect(first.json()).to.include.keys("stateMachineArn", "taskDefinitions", "lambdaFunctions", "mutatingCalls");
    expect(first.json().mutatingCalls).to.be.greaterThan(0);
    expect(Object.keys(first.json().lambdaFunctions).sort()).to.deep.equal(["a", "b"]);
    const second = await cli("deploy", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--json");
    expect(second.json().mutatingCalls).to.equal(0);

    const started = await cli("start", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--invocation", "invocation.json", "--json");
    expect(started.code, started.stdout).to.equal(0);
    const { executionArn, executionId } = started.json();
    expect(executionId).to.match(/^wi-/);
    let record: { status: string; processors: Record<string, { status: string }> } | undefined;
    for (let i = 0; i < 80; i++) {
      const status = await cli("status", executionArn, "--node", "node.json", "--json");
      record = status.json();
      if (isTerminalExecutionStatus(record!.status as ExecutionStatus)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(record!.status).to.equal("SUCCEEDED");
    expect(record!.processors).to.deep.equal({ a: record!.processors.a, b: record!.processors.b });
    expect([record!.processors.a.status, record!.processors.b.status]).to.deep.equal(["SUCCEEDED", "SUCCEEDED"]);
    expect(JSON.stringify(record)).to.not.include("CLI-TOKEN");
    const listed = await cli("executions", "--node", "node.json", "--status", "SUCCEEDED", "--json");
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.json().map((r: { executionId: string }) => r.executionId)).to.deep.equal([executionId]);
    expect((await cli("executions", "--node", "node.json", "--status", "FAILED", "--json")).json()).to.deep.equal([]);
    const late = await cli("cancel", executionId, "--node", "node.json");
    expect(late.code, late.stderr).to.not.equal(0);
    expect(late.stderr).to.contain("SUCCEEDED");

    const cleaned = await cli("cleanup", "--node", "node.json", "--json");
    expect(cleaned.code).to.equal(0);
    expect(cleaned.json().deletedFunctions).to.have.length(2);
    expect(cleaned.json().deletedStateMachines).to.have.length(1);
    expect((await cli("cleanup", "--node", "node.json", "--json")).json().mutatingCalls).to.equal(0);
  });

  it("status --watch follows an AWS execution until it ends: one JSON record per change, exit code from the final status", async () => {
    await files();
    const started = await cli("start", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--invocation", "invocation.json", "--json");
    expect(started.code, started.stdout + started.stderr).to.equal(0);
    const watched = await cli("status", started.json().executionArn, "--node", "node.json", "--watch", "--interval", "0.05", "--json");
    expect(watched.code, watched.stderr).to.equal(0);
    const records = watched.stdout.trim().split("\n").map((line) => JSON.parse(line) as { status: string });
    expect(records[records.length - 1].status).to.equal("SUCCEEDED");
    // Only changes are printed: no two consecutive lines are the same record.
    for (let i = 1; i < records.length; i++) expect(JSON.stringify(records[i])).to.not.equal(JSON.stringify(records[i - 1]));
    const bad = await cli("status", started.json().executionArn, "--node", "node.json", "--watch", "--interval", "0");
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain("--interval");
  });

  it("refuses an invocation that targets another node before calling AWS", async () => {
    await files();
    await writeFile(join(dir, "invocation.json"), JSON.stringify({ workflowInstanceConfiguration: { computeNodeId: "some-other-node" } }));
    const out = await cli("start", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--invocation", "invocation.json", "--json");
    expect(out.code).to.equal(2);
    expect(out.json().error.issues[0]).to.deep.include({ code: "node_mismatch", path: ["invocation", "workflowInstanceConfiguration", "computeNodeId"] });
    expect((await cli("cleanup", "--node", "node.json", "--json")).json().mutatingCalls).to.equal(0);
  });

  it("names a missing NODE.json key and exits 2", async () => {
    await writeFile(join(dir, "node.json"), JSON.stringify({ computeNodeId: "n", region: "us-east-1" }));
    await writeFile(join(dir, "workflow.json"), JSON.stringify({ name: "w", processors: [{ id: "a", sourceUrl: "img:1" }] }));
    await writeFile(join(dir, "processors.json"), "[]");
    const out = await cli("deploy", "workflow.json", "--node", "node.json", "--processors", "processors.json", "--json");
    expect(out.code).to.equal(2);
    const paths = out.json().error.issues.map((i: { path: string[] }) => i.path.join("."));
    expect(paths).to.include("node.clusterArn").and.include("node.stateMachineRoleArn");
  });
});
