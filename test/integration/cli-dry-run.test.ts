import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { ListStateMachinesCommand } from "@aws-sdk/client-sfn";
import { main } from "../../lib/cli/main";
import { useMoto } from "./moto";
import { motoNode } from "./fixtures";

describe("compute-node deploy --dry-run / cleanup --dry-run against moto", function () {
  this.timeout(40000);
  const moto = useMoto();
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-cli-plan-"));
    await writeFile(join(dir, "node.json"), JSON.stringify(await motoNode(moto.endpoint, "node-cliplan")));
    await writeFile(join(dir, "workflow.json"), JSON.stringify({ name: "plan-wf", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] }));
    await writeFile(join(dir, "processors.json"), JSON.stringify([{ sourceUrl: "img-a:1", computeTypes: ["lambda"] }, { sourceUrl: "img-b:1", computeTypes: ["ecs"] }]));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function cli(...argv: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await main(["node", "compute-node", ...argv], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: dir, env: { AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: "us-east-1" } });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }
  const inventory = async () => ({
    functions: ((await moto.clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName).sort(),
    machines: ((await moto.clients.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).map((m) => m.name).sort(),
  });
  const deploy = (...flags: string[]) => cli("deploy", "workflow.json", "--node", "node.json", "--processors", "processors.json", ...flags);

  it("lists what deploy would create, changes nothing, and the deploy then reports the same changes", async () => {
    const planned = await deploy("--dry-run", "--json");
    expect(planned.code, planned.stderr).to.equal(0);
    expect(planned.json()).to.deep.include({ dryRun: true, mutatingCalls: 0 });
    expect(planned.json().changes.map((c: { action: string; kind: string }) => `${c.action} ${c.kind}`)).to.deep.equal(["create function", "create task definition", "create state machine"]);
    expect(await inventory()).to.deep.equal({ functions: [], machines: [] });

    const human = await deploy("--dry-run");
    expect(human.stdout).to.match(/^would create function proc-lambda-node-cliplan-[0-9a-f]{12}: new image img-a:1$/m);
    expect(human.stdout).to.include("would create state machine cn-node-cliplan-plan-wf-").and.include("3 changes planned; nothing was changed");

    const deployed = await deploy("--json");
    expect(deployed.json().changes).to.deep.equal(planned.json().changes);
    expect((await deploy("--dry-run")).stdout).to.equal("no changes: everything is already in place\n");
  });

  it("lists what cleanup would delete without deleting it, then names what it deleted", async () => {
    await deploy();
    const before = await inventory();
    const planned = await cli("cleanup", "--node", "node.json", "--workflow", "plan-wf", "--dry-run");
    expect(planned.code, planned.stderr).to.equal(0);
    expect(planned.stdout).to.include(`would delete function ${before.functions[0]}`).and.include(`would delete state machine arn:aws:states:us-east-1:123456789012:stateMachine:${before.machines[0]}`);
    expect(planned.stdout).to.match(/would deregister task definition arn:aws:ecs:.*:task-definition\/cn-node-cliplan-[0-9a-f]{16}:1/);
    expect(planned.stdout).to.include("would delete 1 functions, 1 state machines, 1 task definitions; nothing was changed");
    expect(await inventory()).to.deep.equal(before);
    const plannedJson = await cli("cleanup", "--node", "node.json", "--workflow", "plan-wf", "--dry-run", "--json");
    expect(plannedJson.json()).to.deep.include({ dryRun: true, mutatingCalls: 0 });

    const done = await cli("cleanup", "--node", "node.json", "--workflow", "plan-wf", "--json");
    expect(done.json().dryRun).to.equal(false);
    for (const key of ["deletedFunctions", "deletedStateMachines", "deregisteredTaskDefinitions"]) expect(done.json()[key], key).to.deep.equal(plannedJson.json()[key]);
    expect(await inventory()).to.deep.equal({ functions: [], machines: [] });
    const again = await cli("cleanup", "--node", "node.json");
    expect(again.stdout).to.equal("deleted 0 functions, 0 state machines, 0 task definitions\n");
  });
});
