import { expect } from "chai";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow, startLocalExecution, cancelReason } from "../../lib/runtime/local/runner";
import { cancelLocalExecution } from "../../lib/runtime/local";
import { localRecordStore } from "../../lib/runtime/local/records";
import { UnavailableError, ConflictError } from "../../lib/errors";
import { levelsMachine } from "../runtime/local/fixtures/levels-machine";
import { copyScript, planOf, scratch } from "../runtime/local/helpers";
import { cli } from "./harness";

const exists = (p: string) => access(p).then(() => true, () => false);

describe("compute-node executions", () => {
  it("lists a workdir's executions newest first and filters them by status and workflow", async function () {
    this.timeout(20_000);
    const { root, input, workdir } = await scratch();
    let tick = Date.parse("2026-01-01T00:00:00Z");
    const now = () => new Date((tick += 1000));
    await runLocalWorkflow({ plan: planOf("first", [{ id: "a", command: copyScript("a") }]), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-old", now });
    await runLocalWorkflow({ plan: planOf("second", [{ id: "a", command: [process.execPath, "-e", "process.exit(3)"] }]), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-new", now });

    const all = await cli(["executions", "--workdir", workdir, "--json"], { cwd: root });
    expect(all.code).to.equal(0);
    expect(JSON.parse(all.stdout).map((r: { executionId: string }) => r.executionId)).to.deep.equal(["wi-new", "wi-old"]);
    const failed = await cli(["executions", "--workdir", workdir, "--status", "FAILED"], { cwd: root });
    expect(failed.stdout).to.contain("wi-new").and.not.contain("wi-old");
    const byWorkflow = await cli(["executions", "--workdir", workdir, "--workflow", "first", "--limit", "1", "--json"], { cwd: root });
    expect(JSON.parse(byWorkflow.stdout).map((r: { executionId: string }) => r.executionId)).to.deep.equal(["wi-old"]);
  });

  it("refuses an unknown --status with exit 2, naming the known statuses", async () => {
    const result = await cli(["executions", "--status", "DONE"]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('"DONE"').and.contain("CANCELED");
  });
});

describe("compute-node cancel", () => {
  it("signals the execution's runner, which ends it CANCELED", async function () {
    this.timeout(20_000);
    const { input, workdir } = await scratch();
    const controller = new AbortController();
    const plan = planOf("cancel-cli", [{ id: "sleepy", command: [process.execPath, "-e", "setTimeout(() => {}, 30000)"] }]);
    let cancelled: Promise<unknown> | undefined;
    const sent: { pid: number; signal: string | number }[] = [];
    const execution = startLocalExecution({
      plan,
      inputDir: input,
      workdir,
      compile: levelsMachine(),
      executionId: "wi-cli-cancel",
      signal: controller.signal,
      stopGraceMs: 200,
      onEvent: (e) => {
        // The runner is this process; the stand-in for `run`'s SIGTERM handler is the cancel abort.
        if (e.type === "processor-started")
          cancelled = localRecordStore(workdir)
            .get("wi-cli-cancel")
            .then(() => cancelLocalExecution("wi-cli-cancel", { workdir, kill: (pid, signal) => (sent.push({ pid, signal }), controller.abort(cancelReason())) }));
      },
    });
    const record = await execution.done;
    await cancelled;
    expect(sent).to.deep.equal([{ pid: process.pid, signal: "SIGTERM" }]);
    expect(record.status).to.equal("CANCELED");
    expect(record.processors.sleepy.status).to.equal("CANCELED");
  });

  it("fails clearly when the execution already ended, and when its runner is gone", async function () {
    this.timeout(20_000);
    const { root, input, workdir } = await scratch();
    await runLocalWorkflow({ plan: planOf("done", [{ id: "a", command: copyScript("a") }]), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-done" });
    const ended = await cli(["cancel", "wi-done", "--workdir", workdir], { cwd: root });
    expect(ended.code).to.equal(1);
    expect(ended.stderr).to.contain("already ended SUCCEEDED");
    let caught: unknown;
    try {
      await cancelLocalExecution("wi-done", { workdir });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(ConflictError);

    // A record left RUNNING by a runner that no longer exists.
    const store = localRecordStore(workdir);
    // The store's patch type leaves `runner` out (only the runner sets it, at create); the file store writes any field.
    await store.updateExecution("wi-done", { status: "RUNNING", runner: { pid: 2 ** 22 + 1, host: require("node:os").hostname() } } as { status: "RUNNING" });
    caught = undefined;
    try {
      await cancelLocalExecution("wi-done", { workdir, kill: () => { throw Object.assign(new Error("kill ESRCH"), { code: "ESRCH" }); } });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(UnavailableError);
    expect((caught as Error).message).to.contain("runner (pid").and.contain("is gone");
    expect(await exists(join(workdir, "executions", "wi-done"))).to.equal(true);
  });

  it("names --node when an AWS cancel's node file cannot be read, and exits 2", async () => {
    const result = await cli(["cancel", "wi-x", "--node", "missing-node.json"]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("--node");
  });
});

describe("compute-node logs", () => {
  it("prints one processor's log, or every processor's with its id before each line", async function () {
    this.timeout(20_000);
    const { root, input, workdir } = await scratch();
    const say = (text: string) => [process.execPath, "-e", `console.log(${JSON.stringify(text)})`];
    await runLocalWorkflow({ plan: planOf("logs", [{ id: "a", command: say("from a") }, { id: "b", dependsOn: ["a"], command: say("from b") }]), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-logs" });
    const one = await cli(["logs", "wi-logs", "--processor", "b", "--workdir", workdir], { cwd: root });
    expect(one.code).to.equal(0);
    expect(one.stdout).to.contain("from b").and.not.contain("from a");
    const all = await cli(["logs", "wi-logs", "--workdir", workdir], { cwd: root });
    expect(all.stdout).to.contain("a | from a").and.contain("b | from b");
    const unknown = await cli(["logs", "wi-logs", "--processor", "zz", "--workdir", workdir], { cwd: root });
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.contain('no processor "zz" (known: a, b)');
  });
});

describe("compute-node status --watch", () => {
  it("shows each change of a running execution and returns once it ends, with its exit code", async function () {
    this.timeout(20_000);
    const { root, input, workdir } = await scratch();
    const controller = new AbortController();
    let watched: Promise<{ code: number; stdout: string }> | undefined;
    const execution = startLocalExecution({
      plan: planOf("watch", [{ id: "sleepy", command: [process.execPath, "-e", "setTimeout(() => {}, 30000)"] }]),
      inputDir: input,
      workdir,
      compile: levelsMachine(),
      executionId: "wi-watch",
      signal: controller.signal,
      stopGraceMs: 200,
      onEvent: (e) => {
        if (e.type === "processor-started") {
          watched = cli(["status", "wi-watch", "--watch", "--workdir", workdir], { cwd: root });
          controller.abort(cancelReason());
        }
      },
    });
    await execution.done;
    const result = await watched!;
    expect(result.code).to.equal(1);
    expect(result.stdout).to.contain("CANCELED");
  });
});
