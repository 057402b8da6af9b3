import { expect } from "chai";
import { access, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { copyScript, planOf, scratch } from "./helpers";
import { compileWorkflow } from "../../../lib/compile";
import { LocalCompiler, toBundle } from "../../../lib/runtime/local/compile-local";

const exists = (p: string) => access(p).then(() => true, () => false);

/** The same behaviours as runner.test.ts, through the machine lib/compile really produces. */
describe("runLocalWorkflow (compiled by lib/compile)", () => {
  const diamond = (c: string[]) =>
    planOf("compiled-diamond", [
      { id: "a", command: copyScript("a") },
      { id: "b", dependsOn: ["a"], command: copyScript("b") },
      { id: "c", dependsOn: ["a"], command: c, computeType: "lambda" },
      { id: "d", dependsOn: ["b", "c"], command: copyScript("d") },
    ]);

  it("fails on a processor's exit code, still finalizes, and keeps tokens out of everything it writes", async () => {
    const { input, workdir } = await scratch();
    const env = { ...process.env, PENNSIEVE_SESSION_TOKEN: "sess-SECRET-789", PENNSIEVE_REFRESH_TOKEN: "refr-SECRET-012" };
    const fail = [process.execPath, "-e", `console.log("token seen:", process.env.SESSION_TOKEN.length > 0); process.stdout.write("careless " + process.env.SESSION_TOKEN.slice(0, 6)); setTimeout(() => { console.log(process.env.SESSION_TOKEN.slice(6) + " print"); console.error(process.env.REFRESH_TOKEN); process.exit(5) }, 50)`];
    const record = await runLocalWorkflow({ plan: diamond(fail), inputDir: input, workdir, env, executionId: "wi-compiled-fail" });
    expect(record.status).to.equal("FAILED");
    expect(record.processors.c).to.include({ status: "FAILED", exitCode: 5 });
    const log = await readFile(record.processors.c.logFile!, "utf8");
    expect(log).to.contain("token seen: true").and.contain("careless *** print");
    expect(log).not.to.contain("SECRET");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
    expect(record.error?.cause).to.contain('processor "c" exited with code 5');
    expect(await exists(join(workdir, "archive", "wi-compiled-fail", "cost-report.json"))).to.equal(true);
    const written = [await readFile(join(workdir, "executions", "wi-compiled-fail", "record.json"), "utf8"), await readFile(join(workdir, "archive", "wi-compiled-fail", "cost-report.json"), "utf8")];
    for (const text of written) expect(text).not.to.contain("SECRET");
    expect(await readdir(join(workdir, "secrets"))).to.deep.equal([]);
  });

  it("fails on a merge collision naming both processors and the file", async () => {
    const { input, workdir } = await scratch();
    const clash = [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR,"b-a-hello.txt"),"clash")`];
    const record = await runLocalWorkflow({ plan: diamond(clash), inputDir: input, workdir, executionId: "wi-compiled-clash" });
    expect(record.status).to.equal("FAILED");
    expect(record.error?.cause).to.contain('"b"').and.contain('"c"').and.contain("b-a-hello.txt");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
  });

  it("retries a failing processor as its registration asks and records the attempt that succeeded", async () => {
    const { root, input, workdir } = await scratch();
    const flaky = [process.execPath, "-e", `const f=${JSON.stringify(join(root, "tried"))};const fs=require("fs");if(!fs.existsSync(f)){fs.writeFileSync(f,"1");console.error("first try fails");process.exit(3)}`];
    const { resolvePlan } = await import("../../../lib/plan/resolve");
    const plan = resolvePlan(
      { name: "flaky", processors: [{ id: "flaky", sourceUrl: "local/flaky" }] },
      { processors: [{ sourceUrl: "local/flaky", localCommand: flaky, retry: { maxAttempts: 1, intervalSeconds: 1 } }] },
    );
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-retry" });
    expect(record.status).to.equal("SUCCEEDED");
    expect(record.processors.flaky).to.include({ status: "SUCCEEDED", attempts: 2, exitCode: 0 });
    expect(record.processors.flaky.cause).to.equal(undefined);
    const log = await readFile(record.processors.flaky.logFile!, "utf8");
    expect(log).to.contain("attempt 1").and.contain("first try fails").and.contain("attempt 2");
  });

  it("fails a processor whose retries are used up", async () => {
    const { input, workdir } = await scratch();
    const { resolvePlan } = await import("../../../lib/plan/resolve");
    const plan = resolvePlan(
      { name: "broken", processors: [{ id: "broken", sourceUrl: "local/broken" }] },
      { processors: [{ sourceUrl: "local/broken", localCommand: [process.execPath, "-e", "process.exit(9)"], retry: { maxAttempts: 1, intervalSeconds: 1 } }] },
    );
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-retry-fail" });
    expect(record.status).to.equal("FAILED");
    expect(record.processors.broken).to.include({ status: "FAILED", attempts: 2, exitCode: 9 });
  });

  it("in exact mode, fails the run on a processor's failure and never starts what waits on it, in this part or another", async () => {
    const { root, input, workdir } = await scratch();
    // a fails only once b's process has exited (and been reaped), so b's success does not depend on how fast a loaded machine runs it.
    const bDone = join(root, "b-finished-pid");
    const fail = [process.execPath, "-e", `const fs=require("fs");const poll=()=>{let pid;try{pid=Number(fs.readFileSync(${JSON.stringify(bDone)},"utf8"))}catch{return setTimeout(poll,10)}try{process.kill(pid,0);setTimeout(poll,10)}catch{process.exit(4)}};poll()`];
    // a and b feed c, b alone feeds d → e: an N, plus a chain that keeps running while a fails.
    const plan = planOf("exact-fail", [
      { id: "a", command: fail },
      { id: "b", command: copyScript("b", `fs.writeFileSync(${JSON.stringify(bDone)},String(process.pid))`) },
      { id: "c", dependsOn: ["a", "b"], command: copyScript("c") },
      { id: "d", dependsOn: ["b"], command: copyScript("d") },
      { id: "e", dependsOn: ["d", "a"], command: copyScript("e") },
    ]);
    let parts = 0;
    const compile: LocalCompiler = (p, target) => {
      const compiled = compileWorkflow(p, { target, structure: "exact", limits: { definitionBytes: 12_000 } });
      parts = Object.keys(compiled.children).length;
      return toBundle("exact-fail", compiled);
    };
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, compile, executionId: "wi-exact-fail" });
    expect(parts, "child machines").to.be.greaterThan(1);
    expect(record.status).to.equal("FAILED");
    expect(record.processors.a).to.include({ status: "FAILED", exitCode: 4 });
    expect(record.processors.b.status).to.equal("SUCCEEDED");
    expect(record.processors.c.status).to.equal("NOT_STARTED");
    expect(record.processors.e.status).to.equal("NOT_STARTED");
    expect(record.error?.cause).to.contain('processor "a" exited with code 4');
    expect(await exists(join(workdir, "archive", "wi-exact-fail", "cost-report.json"))).to.equal(true);
  });
});
