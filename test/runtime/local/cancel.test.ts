import { expect } from "chai";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { cancelReason, startLocalExecution } from "../../../lib/runtime/local/runner";
import { FileRecordStore } from "../../../lib/runtime/file-record-store";
import { levelsMachine } from "./fixtures/levels-machine";
import { copyScript, planOf, scratch } from "./helpers";

const exists = (p: string) => access(p).then(() => true, () => false);

/** Waits on a condition the test cannot be told about by an event (a file another process writes). */
async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((r) => setImmediate(r));
}

/** The shell creates the file (`>`) before `echo` writes the pid into it: wait for the whole line. */
const pidWritten = (file: string) => readFile(file, "utf8").then((text) => text.endsWith("\n"), () => false);

/** Alive means signalable and not a zombie: a killed orphan may wait for a PID 1 that does not reap it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

// A processor that leaves a grandchild in the background and waits for it.
const withGrandchild = ["sh", "-c", 'sleep 1000 & echo $! > "$OUTPUT_DIR/grandchild.pid"; wait'];

describe("cancelling a local execution", () => {
  it("kills the processor's whole process group, grandchildren included", async function () {
    this.timeout(20_000);
    const { input, workdir } = await scratch();
    const controller = new AbortController();
    const plan = planOf("cancel", [
      { id: "quick", command: copyScript("quick") },
      { id: "sleepy", dependsOn: ["quick"], command: withGrandchild },
      { id: "after", dependsOn: ["sleepy"], command: copyScript("after") },
    ]);
    const sleepy = plan.processors.find((p) => p.id === "sleepy")!;
    const pidFile = join(workdir, "efs", "local", "workdir", "wi-cancel", sleepy.hash, "grandchild.pid");
    const execution = startLocalExecution({
      plan,
      inputDir: input,
      workdir,
      compile: levelsMachine(),
      executionId: "wi-cancel",
      signal: controller.signal,
      stopGraceMs: 200,
      onEvent: (e) => {
        if (e.type === "processor-started" && e.processorId === "sleepy")
          void until(() => pidWritten(pidFile)).then(() => controller.abort(cancelReason()));
      },
    });
    const store = new FileRecordStore(join(workdir, "executions"));
    const record = await execution.done;
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    expect(grandchild).to.be.greaterThan(0);
    expect(isAlive(grandchild)).to.equal(false);
    expect(record.status).to.equal("CANCELED");
    expect(record.processors.quick.status).to.equal("SUCCEEDED");
    expect(record.processors.sleepy.status).to.equal("CANCELED");
    expect(record.processors.after.status).to.equal("NOT_STARTED");
    expect(Object.values(record.processors).map((p) => p.status)).to.not.include("STARTED");
    expect(record.runner?.pid).to.equal(process.pid);
    // Cleanup and finalize still ran.
    expect(await exists(join(workdir, "efs", "local", "input", "wi-cancel"))).to.equal(false);
    expect(record.artifacts?.costReport).to.be.a("string");
    expect((await store.get("wi-cancel"))?.status).to.equal("CANCELED");
  });

  it("ends ABORTED, not CANCELED, when aborted without the cancel reason (Ctrl-C)", async function () {
    this.timeout(20_000);
    const { input, workdir } = await scratch();
    const controller = new AbortController();
    const plan = planOf("ctrlc", [{ id: "sleepy", command: withGrandchild }]);
    const pidFile = join(workdir, "efs", "local", "workdir", "wi-ctrlc", plan.processors[0].hash, "grandchild.pid");
    const record = await startLocalExecution({
      plan,
      inputDir: input,
      workdir,
      compile: levelsMachine(),
      executionId: "wi-ctrlc",
      signal: controller.signal,
      stopGraceMs: 200,
      onEvent: (e) => e.type === "processor-started" && void until(() => pidWritten(pidFile)).then(() => controller.abort()),
    }).done;
    expect(record.status).to.equal("ABORTED");
    expect(isAlive(Number((await readFile(pidFile, "utf8")).trim()))).to.equal(false);
  });
});
