import { expect } from "chai";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cli } from "./harness";

const example = resolve(__dirname, "../../examples/text-pipeline");
const args = (workdir: string, ...more: string[]) => [
  "run", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--input", join(example, "input"), "--workdir", workdir, ...more,
];

describe("compute-node run", function () {
  this.timeout(60000);

  it("runs the example, shows progress on stderr and prints where each processor's output is", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const r = await cli(args(workdir));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/▶ clean/).and.match(/✔ bundle .*\[7\/7\]/).and.match(/SUCCEEDED in/);
    const bundleDir = /^  bundle: (.+)$/m.exec(r.stdout)![1];
    const bundle = await readFile(join(bundleDir, "bundle.txt"), "utf8");
    expect(bundle).to.contain("===== report.md =====").and.contain("3 documents");
    expect(bundle).to.contain("FOUR SCORE AND SEVEN YEARS AGO").and.contain("Sbhe fpber naq frira");
    const id = /^execution (\S+) \(local\) SUCCEEDED/m.exec(r.stdout)![1];
    const status = await cli(["status", id, "--workdir", workdir, "--json"]);
    expect(JSON.parse(status.stdout).processors.bundle.status).to.equal("SUCCEEDED");
  });

  it("prints the record as JSON on stdout and progress as JSON lines on stderr with --json", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const r = await cli(args(workdir, "--json"));
    expect(r.code).to.equal(0);
    const record = JSON.parse(r.stdout);
    expect(record.status).to.equal("SUCCEEDED");
    expect(Object.keys(record.processors)).to.have.length(7);
    const events = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
    expect(events[0].type).to.equal("execution-started");
    expect(events[events.length - 1]).to.include({ type: "execution-finished", status: "SUCCEEDED" });
  });

  it("runs the example in exact mode with --structure exact: the same outputs from another machine", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const nested = JSON.parse((await cli(args(workdir, "--json"))).stdout);
    const r = await cli(args(workdir, "--json", "--structure", "exact"));
    expect(r.code, r.stderr).to.equal(0);
    const exact = JSON.parse(r.stdout);
    expect(exact.status).to.equal("SUCCEEDED");
    expect(exact.snapshot.definitionHash).to.not.equal(nested.snapshot.definitionHash);
    const bundleOf = (record: { artifacts: { outputs: string }; snapshot: { resolved: { id: string; hash: string }[] } }) =>
      readFile(join(record.artifacts.outputs, record.snapshot.resolved.find((p) => p.id === "bundle")!.hash, "bundle.txt"), "utf8");
    expect(await bundleOf(exact)).to.equal(await bundleOf(nested));
  });

  it("delivers the sink's outputs to --outputs, relative to the current directory, and says what it uploaded", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const r = await cli(args(join(cwd, "work"), "--outputs", "results"), { cwd });
    expect(r.code, r.stderr).to.equal(0);
    const delivered = await readFile(join(cwd, "results", "bundle", "bundle.txt"), "utf8");
    expect(delivered).to.contain("===== report.md =====");
    expect(r.stdout).to.match(/uploaded \d+ files \(\d+ bytes\) of 1 sink processors to .*results/);
  });

  it("reads a relative outputs of the invocation file from the file's own directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    await writeFile(join(dir, "invocation.json"), JSON.stringify({ outputs: "delivered/{workflowInstanceId}" }));
    const r = await cli(args(join(dir, "work"), "--invocation", join(dir, "invocation.json"), "--json"), { cwd: tmpdir() });
    expect(r.code, r.stderr).to.equal(0);
    const record = JSON.parse(r.stdout);
    expect(record.outputs.destination).to.equal(join(dir, "delivered", record.executionId));
    expect(await readFile(join(dir, "delivered", record.executionId, "bundle", "bundle.txt"), "utf8")).to.contain("report.md");
  });

  it("exits 2 on an --outputs scheme it cannot deliver to, before anything runs", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const r = await cli(args(workdir, "--outputs", "https://example.org/upload"));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain("invocation.outputs").and.contain("https:// destinations are not supported");
  });

  it("exits 1 when a processor fails, and the record names it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const registrations = JSON.parse(await readFile(join(example, "processors.json"), "utf8")).processors;
    registrations.find((r: { name: string }) => r.name === "lines").localCommand = [process.execPath, "-e", "process.exit(7)"];
    for (const r of registrations) if (r.localCommand[0] === "node") r.localCommand[1] = join(example, r.localCommand[1]);
    await writeFile(join(dir, "processors.json"), JSON.stringify(registrations));
    const r = await cli(["run", join(example, "workflow.json"), "--processors", join(dir, "processors.json"), "--input", join(example, "input"), "--workdir", join(dir, "work")]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/lines\s+FAILED\s+7/).and.match(/report\s+NOT_STARTED/);
    expect(r.stderr).to.contain('processor "lines" exited with code 7');
  });

  it("exits 2 on a concurrency that is not a positive whole number", async () => {
    const r = await cli(["run", join(example, "workflow.json"), "--input", join(example, "input"), "--concurrency", "0"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain("--concurrency");
  });

  it("exits 2 when --input is missing", async () => {
    const r = await cli(["run", join(example, "workflow.json"), "--processors", join(example, "processors.json")]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain("--input");
  });

  it("exits 2 when the input directory does not exist", async () => {
    const workdir = await mkdtemp(join(tmpdir(), "cn-cli-run-"));
    const r = await cli(["run", join(example, "workflow.json"), "--processors", join(example, "processors.json"), "--input", "/no/such/dir", "--workdir", workdir, "--json"]);
    expect(r.code).to.equal(2);
    expect(JSON.parse(r.stdout).error.issues[0].code).to.equal("input_not_found");
  });
});
