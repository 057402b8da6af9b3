import { expect } from "chai";
import { runLocalWorkflow } from "../../lib/runtime/local/runner";
import { levelsMachine } from "../runtime/local/fixtures/levels-machine";
import { copyScript, planOf, scratch } from "../runtime/local/helpers";
import { cli } from "./harness";

describe("compute-node status", () => {
  let workdir: string;

  before(async () => {
    const s = await scratch();
    workdir = s.workdir;
    const plan = (fail: boolean) =>
      planOf("two", [
        { id: "first", command: copyScript("first") },
        { id: "second", dependsOn: ["first"], command: fail ? [process.execPath, "-e", "process.exit(4)"] : copyScript("second") },
      ]);
    await runLocalWorkflow({ plan: plan(false), inputDir: s.input, workdir, compile: levelsMachine(), executionId: "wi-ok" });
    await runLocalWorkflow({ plan: plan(true), inputDir: s.input, workdir, compile: levelsMachine(), executionId: "wi-bad" });
  });

  it("prints a succeeded execution with one row per processor and exits 0", async () => {
    const r = await cli(["status", "wi-ok", "--workdir", workdir]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain("execution wi-ok (local) SUCCEEDED");
    expect(r.stdout).to.match(/first\s+SUCCEEDED\s+0/).and.match(/second\s+SUCCEEDED\s+0/);
  });

  it("exits 1 for a failed execution and shows the exit code and error", async () => {
    const r = await cli(["status", "wi-bad", "--workdir", workdir]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/second\s+FAILED\s+4/);
    expect(r.stdout).to.contain('processor "second" exited with code 4');
  });

  it("prints the full record with --json", async () => {
    const r = await cli(["status", "wi-bad", "--workdir", workdir, "--json"]);
    const record = JSON.parse(r.stdout);
    expect(record.processors.second).to.include({ status: "FAILED", exitCode: 4 });
    expect(record.snapshot.workflow.name).to.equal("two");
  });

  it("resolves --workdir against the current directory", async () => {
    const r = await cli(["status", "wi-ok", "--workdir", "work"], { cwd: `${workdir}/..` });
    expect(r.code).to.equal(0);
  });

  it("exits 1 with not_found for an unknown execution", async () => {
    const r = await cli(["status", "wi-nope", "--workdir", workdir, "--json"]);
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout).error.code).to.equal("not_found");
  });

  it("exits 2 for an execution id that could escape the workdir", async () => {
    const r = await cli(["status", "../../etc", "--workdir", workdir]);
    expect(r.code).to.equal(2);
  });
});
