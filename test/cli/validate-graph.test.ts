import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cli } from "./harness";

const example = resolve(__dirname, "../../examples/text-pipeline");

async function tempJson(value: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cn-cli-"));
  const file = join(dir, "file.json");
  await writeFile(file, JSON.stringify(value));
  return file;
}

describe("compute-node validate", () => {
  it("accepts the example workflow with its registrations and exits 0", async () => {
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", join(example, "processors.json")]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('workflow "text-pipeline" is valid: 7 processors (6 ecs, 1 lambda)');
  });

  it("prints the resolved processors with --json", async () => {
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--json"]);
    const body = JSON.parse(r.stdout);
    expect(body.valid).to.equal(true);
    expect(body.processors.find((p: { id: string }) => p.id === "rot13")).to.include({ computeType: "lambda", memory: 512 });
  });

  it("exits 2 on a cycle and names it, as JSON issues with --json", async () => {
    const file = await tempJson({ name: "loop", processors: [{ id: "a", sourceUrl: "x/a", dependsOn: ["b"] }, { id: "b", sourceUrl: "x/b", dependsOn: ["a"] }] });
    const r = await cli(["validate", file, "--json"]);
    expect(r.code).to.equal(2);
    const issue = JSON.parse(r.stdout).error.issues.find((i: { code: string }) => i.code === "cycle");
    expect(issue.message).to.match(/a → b → a|b → a → b/);
  });

  it("exits 2 with the field and processor on stderr for a Lambda processor in compliant mode", async () => {
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--mode", "compliant"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('processor "rot13" at processors[4].computeTypes').and.contain("compliant");
  });

  it("points a registration's cpu at its index in the processors file, naming the file, on stderr and in --json", async () => {
    const registrations = JSON.parse(await readFile(join(example, "processors.json"), "utf8")).processors;
    registrations[3].cpu = 1000;
    const file = await tempJson(registrations);
    const args = ["validate", join(example, "workflow.json"), "--processors", file];
    const text = await cli(args);
    expect(text.code).to.equal(2);
    expect(text.stderr).to.contain(`${file}: processors[3].cpu: cpu 1000 is neither vCPU (0.25–16) nor ECS CPU units (256, 512, 1024, 2048, 4096, 8192, 16384)`);
    const json = await cli([...args, "--json"]);
    expect(json.code).to.equal(2);
    expect(JSON.parse(json.stdout).error.issues).to.deep.equal([
      { code: "invalid_cpu", path: ["processors", 3, "cpu"], file, message: "cpu 1000 is neither vCPU (0.25–16) nor ECS CPU units (256, 512, 1024, 2048, 4096, 8192, 16384): write vCPU such as 0.5, or CPU units such as 512" },
    ]);
  });

  it("points a resource problem at the registration, not at the workflow processor that uses it", async () => {
    const registrations = JSON.parse(await readFile(join(example, "processors.json"), "utf8")).processors;
    registrations[1].cpu = 2048;
    const file = await tempJson({ processors: registrations });
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", file, "--json"]);
    expect(JSON.parse(r.stdout).error.issues[0]).to.deep.include({ code: "invalid_resources", processorId: "words", path: ["processors", 1, "memory"], file });
  });

  it("reads ECS CPU units and prints the plan in vCPU with --json", async () => {
    const registrations = JSON.parse(await readFile(join(example, "processors.json"), "utf8")).processors;
    registrations[0] = { ...registrations[0], cpu: 1024, memory: 2048 };
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", await tempJson(registrations), "--json"]);
    expect(r.code, r.stdout).to.equal(0);
    expect(JSON.parse(r.stdout).processors.find((p: { id: string }) => p.id === "clean")).to.include({ cpu: 1, memory: 2048 });
  });

  it("suggests the key a user meant for an unknown one, naming the workflow file", async () => {
    const file = await tempJson({ name: "w", processors: [{ id: "a", sourceUrl: "x/a" }, { id: "b", sourceUrl: "x/b", depends_on: ["a"] }] });
    const r = await cli(["validate", file]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain(`${file}: workflow.processors[1]: unknown key "depends_on": did you mean "dependsOn"?`);
  });

  it("accepts the example invocation, whose processorConfigs move rot13 to ECS", async () => {
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--invocation", join(example, "invocation.json")]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain("7 processors (7 ecs)");
  });

  it("refuses a computeNodeId that could climb out of the node's directories, naming the field", async () => {
    const invocation = await tempJson({ workflowInstanceConfiguration: { computeNodeId: "../../../x" } });
    const r = await cli(["validate", join(example, "workflow.json"), "--invocation", invocation, "--json"]);
    expect(r.code).to.equal(2);
    const issue = JSON.parse(r.stdout).error.issues[0];
    expect(issue).to.deep.include({ path: ["invocation", "workflowInstanceConfiguration", "computeNodeId"], file: invocation });
    expect(issue.message).to.contain('"../../../x" is not a compute node id');
  });

  it("exits 2 naming the option when a file cannot be read", async () => {
    const r = await cli(["validate", join(example, "workflow.json"), "--processors", "/no/such/file.json", "--json"]);
    expect(r.code).to.equal(2);
    const issue = JSON.parse(r.stdout).error.issues[0];
    expect(issue).to.deep.include({ code: "file_unreadable", path: ["--processors"] });
  });

  it("prints help and exits 0 with --help", async () => {
    const r = await cli(["validate", "--help"]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain("Usage: compute-node validate").and.contain("--processors");
  });
});

describe("compute-node graph", () => {
  const wf = join(example, "workflow.json");

  it("draws Mermaid with one edge per dependency", async () => {
    const r = await cli(["graph", wf]);
    expect(r.code).to.equal(0);
    expect(r.stdout.startsWith("flowchart TD\n")).to.equal(true);
    expect(r.stdout.match(/-->/g)).to.have.length(9);
    expect(r.stdout).to.contain('["clean"]');
  });

  it("draws Graphviz DOT with quoted ids", async () => {
    const r = await cli(["graph", wf, "--format", "dot"]);
    expect(r.stdout).to.contain('digraph "text-pipeline" {').and.contain('"words" -> "report";');
  });

  it("draws an SVG with one box per processor, layered by topological level", async () => {
    const r = await cli(["graph", wf, "--format", "svg", "--processors", join(example, "processors.json")]);
    expect(r.code).to.equal(0);
    expect(r.stdout.startsWith("<svg")).to.equal(true);
    expect(r.stdout.match(/<rect /g)).to.have.length(7);
    expect(r.stdout.match(/<line /g)).to.have.length(9);
    const y = (id: string) => Number(new RegExp(`<title>${id} \\([a-z]+\\)</title><rect x="[\\d.]+" y="([\\d.]+)"`).exec(r.stdout)![1]);
    expect(y("clean")).to.be.below(y("words"));
    expect(y("words")).to.equal(y("rot13"));
    expect(y("words")).to.be.below(y("report"));
    expect(y("report")).to.be.below(y("bundle"));
  });

  it("places a node under its dependency rather than in workflow order, avoiding a crossing", async () => {
    const file = await tempJson({ name: "cross", processors: [{ id: "a", sourceUrl: "x/a" }, { id: "b", sourceUrl: "x/b" }, { id: "c", sourceUrl: "x/c", dependsOn: ["b"] }, { id: "d", sourceUrl: "x/d", dependsOn: ["a"] }] });
    const svg = (await cli(["graph", file, "--format", "svg"])).stdout;
    const x = (id: string) => Number(new RegExp(`<title>${id} \\([a-z]+\\)</title><rect x="([\\d.]+)"`).exec(svg)![1]);
    expect(x("a")).to.be.below(x("b"));
    expect(x("d")).to.be.below(x("c"));
  });

  it("escapes processor ids that would break the markup", async () => {
    const file = await tempJson({ name: "odd", processors: [{ id: 'a"<b>&', sourceUrl: "x/a" }] });
    const svg = (await cli(["graph", file, "--format", "svg"])).stdout;
    expect(svg).to.contain("a&quot;&lt;b&gt;&amp;").and.not.contain("<b>");
    const dot = (await cli(["graph", file, "--format", "dot"])).stdout;
    expect(dot).to.contain('"a\\"<b>&"');
  });

  it("refuses an unknown format with exit 2", async () => {
    const r = await cli(["graph", wf, "--format", "png"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain("png");
  });
});
