import { expect } from "chai";
import { mkdtemp, writeFile } from "node:fs/promises";
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
