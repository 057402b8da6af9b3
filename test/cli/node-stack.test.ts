import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliContext } from "../../lib/cli/io";
import { EngineSetup, NodeStackOptions, NodeStackVerb, runNodeStack } from "../../lib/cli/node-stack";
import { ValidationError } from "../../lib/errors";
import { EngineEventListener, NodeSpec, StackEngine } from "../../lib/provision/stack-engine";

/** A stack engine that reports like the Automation API one: a preview's steps, with changed property names. */
class FakeEngine implements StackEngine {
  readonly calls: { verb: string; node: NodeSpec }[] = [];
  constructor(readonly setup: EngineSetup) {}
  async ensureAvailable() {}
  private emit(onEvent: EngineEventListener | undefined) {
    const t = "2026-12-02T00:00:00.000Z";
    onEvent?.({ type: "resource-pre", urn: "urn:pulumi:s::compute-node::pulumi:pulumi:Stack::compute-node-s", resourceType: "pulumi:pulumi:Stack", op: "same", timestamp: t });
    onEvent?.({ type: "resource-pre", urn: "urn:pulumi:s::compute-node::aws:ec2/vpc:Vpc::cn-n1-vpc", resourceType: "aws:ec2/vpc:Vpc", op: "same", timestamp: t });
    onEvent?.({ type: "resource-pre", urn: "urn:pulumi:s::compute-node::aws:lambda/function:Function::cn-n1-join", resourceType: "aws:lambda/function:Function", op: "update", diffs: ["environment", "timeout"], timestamp: t });
    onEvent?.({ type: "resource-pre", urn: "urn:pulumi:s::compute-node::aws:ec2/subnet:Subnet::cn-n1-private-2", resourceType: "aws:ec2/subnet:Subnet", op: "create", timestamp: t });
    onEvent?.({ type: "resource-outputs", urn: "urn:pulumi:s::compute-node::aws:ec2/subnet:Subnet::cn-n1-private-2", resourceType: "aws:ec2/subnet:Subnet", op: "create", timestamp: "2026-12-02T00:00:02.500Z" });
  }
  async up(node: NodeSpec, o: { onEvent?: EngineEventListener } = {}) {
    this.calls.push({ verb: "up", node });
    this.emit(o.onEvent);
    return { resourceChanges: { same: 1, update: 1, create: 1 }, outputs: { computeNodeId: { value: node.id, secret: false }, token: { value: "hidden", secret: true } } };
  }
  async preview(node: NodeSpec, o: { onEvent?: EngineEventListener } = {}) {
    this.calls.push({ verb: "preview", node });
    this.emit(o.onEvent);
    return { resourceChanges: { same: 1, update: 1, create: 1 } };
  }
  async refresh(node: NodeSpec) {
    this.calls.push({ verb: "refresh", node });
    return { resourceChanges: { same: 3 }, outputs: {} };
  }
  async destroy(node: NodeSpec) {
    this.calls.push({ verb: "destroy", node });
    return { resourceChanges: { delete: 3 } };
  }
  async cancel() {}
  async outputs(node: NodeSpec) {
    this.calls.push({ verb: "outputs", node });
    return { computeNodeId: { value: node.id, secret: false }, token: { value: "hidden", secret: true } };
  }
}

describe("compute-node node up|preview|destroy|outputs|refresh", () => {
  let dir: string;
  let stdout: string;
  let stderr: string;
  let engine: FakeEngine | undefined;
  let ctx: CliContext;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-node-stack-"));
    stdout = stderr = "";
    engine = undefined;
    ctx = { io: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: dir, env: { AWS_REGION: "eu-west-1" } }, exitCode: 0 };
    await writeFile(join(dir, "config.json"), JSON.stringify({ computeNodeId: "n1", environment: "prod" }));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const run = (verb: NodeStackVerb, opts: Partial<NodeStackOptions>, confirm?: (q: string) => Promise<boolean>) =>
    runNodeStack(verb, { dataDir: "state", config: "config.json", mode: "secure", ...opts }, ctx, { engine: async (setup) => (engine = new FakeEngine(setup)), confirm });

  it("preview prints each step that changes, with the changed property names, and streams nothing else on stdout", async () => {
    expect(await run("preview", {})).to.equal(0);
    expect(stdout.split("\n")).to.deep.equal(["  ~  aws:lambda/function:Function  cn-n1-join (update) [environment, timeout]", "  +  aws:ec2/subnet:Subnet  cn-n1-private-2 (create)", "resources: 1 same, 1 update, 1 create", ""]);
    expect(engine!.calls[0].node).to.deep.equal({ id: "n1", mode: "secure", region: "eu-west-1", options: {} });
  });

  it("preview --json gives the steps and counts; the stack defaults to the node id, --stack renames it, the backend to the data dir", async () => {
    await run("preview", { json: true });
    expect(JSON.parse(stdout)).to.deep.equal({
      stack: "n1",
      changes: { same: 1, update: 1, create: 1 },
      steps: [
        { op: "update", type: "aws:lambda/function:Function", name: "cn-n1-join", diffs: ["environment", "timeout"] },
        { op: "create", type: "aws:ec2/subnet:Subnet", name: "cn-n1-private-2" },
      ],
    });
    expect(engine!.setup.backend).to.equal(`file://${join(dir, "state", "pulumi-state")}`);
    stdout = "";
    await run("preview", { json: true, stack: "team/lab", backend: "s3://state-bucket/cn" });
    expect(JSON.parse(stdout).stack).to.equal("team/lab");
    expect(engine!.setup).to.deep.include({ stackName: "team/lab", backend: "s3://state-bucket/cn" });
  });

  it("up --yes streams progress on stderr, writes the outputs file without secret outputs, and prints the result as JSON", async () => {
    expect(await run("up", { yes: true, json: true, outputsFile: "out/node.json" })).to.equal(0);
    expect(JSON.parse(stdout)).to.deep.equal({ stack: "n1", changes: { same: 1, update: 1, create: 1 }, outputs: { computeNodeId: "n1" } });
    expect(JSON.parse(await readFile(join(dir, "out", "node.json"), "utf8"))).to.deep.equal({ computeNodeId: "n1" });
    expect(stderr).to.include("  + create aws:ec2/subnet:Subnet cn-n1-private-2…").and.include("  ✓ create cn-n1-private-2 (2.5 s)");
    expect(stderr).to.not.include("cn-n1-vpc");
  });

  it("up and destroy without --yes and without a terminal go ahead, saying so on stderr (a script asked for them)", async () => {
    for (const verb of ["up", "destroy"] as const) {
      stderr = "";
      expect(await run(verb, {})).to.equal(0);
      expect(engine!.calls.map((c) => c.verb)).to.deep.equal([verb]);
      expect(stderr).to.include(`no terminal to confirm on: going ahead with ${verb}`);
    }
  });

  it("on a terminal, up previews and applies only when confirmed", async () => {
    const questions: string[] = [];
    expect(await run("up", {}, async (q) => (questions.push(q), false))).to.equal(1);
    expect(engine!.calls.map((c) => c.verb)).to.deep.equal(["preview"]);
    expect(questions[0]).to.include("apply these changes to stack n1 (secure, eu-west-1");
    expect(await run("up", {}, async () => true)).to.equal(0);
    expect(engine!.calls.map((c) => c.verb)).to.deep.equal(["preview", "up"]);
  });

  it("outputs prints the node.json (secrets left out) with or without --json", async () => {
    await run("outputs", {});
    expect(JSON.parse(stdout)).to.deep.equal({ computeNodeId: "n1" });
  });

  it("names the node after its mode when nothing names it, so up and destroy of one mode meet on one stack", async () => {
    await writeFile(join(dir, "config.json"), "{}");
    expect(await run("preview", { json: true })).to.equal(0);
    expect(JSON.parse(stdout).stack).to.equal("node-secure");
    expect(engine!.calls[0].node).to.deep.include({ id: "node-secure", mode: "secure" });
    expect(stderr).to.include("compute node id: node-secure (pass --node-id");
  });

  it("names what is missing or wrong: the region, a bad node id", async () => {
    await writeFile(join(dir, "config.json"), "{}");
    ctx.io.env = {};
    const noRegion = await run("preview", { nodeId: "n2" }).catch((e) => e);
    expect(noRegion.issues[0]).to.deep.include({ code: "missing_region", path: ["--region"] });
    const bad = await run("preview", { nodeId: "N2!", region: "us-east-1" }).catch((e) => e);
    expect(bad).to.be.instanceOf(ValidationError);
    expect(bad.issues[0].path).to.deep.equal(["config", "computeNodeId"]);
  });
});
