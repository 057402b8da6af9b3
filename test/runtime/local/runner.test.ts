import { expect } from "chai";
import { access, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow, startLocalExecution, LocalRunEvent } from "../../../lib/runtime/local/runner";
import { FileRecordStore } from "../../../lib/runtime/file-record-store";
import { CompileError, UnavailableError, ValidationError } from "../../../lib/errors";
import { levelsMachine } from "./fixtures/levels-machine";
import { copyScript, planOf, scratch } from "./helpers";

const exists = (p: string) => access(p).then(() => true, () => false);

const diamond = (overrides: Partial<Record<"a" | "b" | "c" | "d", string[]>> = {}) =>
  planOf("diamond", [
    { id: "a", command: overrides.a ?? copyScript("a") },
    { id: "b", dependsOn: ["a"], command: overrides.b ?? copyScript("b") },
    { id: "c", dependsOn: ["a"], command: overrides.c ?? copyScript("c") },
    { id: "d", dependsOn: ["b", "c"], command: overrides.d ?? copyScript("d") },
  ]);

describe("runLocalWorkflow (hand-written contract machine)", () => {
  it("runs a diamond: the join reads both branches' files through the merged INPUT_DIR", async () => {
    const { input, workdir } = await scratch({ "x.txt": "payload" });
    const plan = diamond();
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-diamond" });
    expect(record.status).to.equal("SUCCEEDED");
    const d = plan.processors.find((p) => p.id === "d")!;
    const outputs = join(workdir, "efs", "local", "workdir", "wi-diamond");
    expect((await readdir(join(outputs, d.hash))).sort()).to.deep.equal(["d-b-a-x.txt", "d-c-a-x.txt"]);
    expect(await readFile(join(outputs, d.hash, "d-b-a-x.txt"), "utf8")).to.equal("payload");
    for (const id of ["a", "b", "c", "d"]) {
      expect(record.processors[id].status).to.equal("SUCCEEDED");
      expect(record.processors[id].exitCode).to.equal(0);
      expect(await exists(record.processors[id].logFile!)).to.equal(true);
    }
    expect(Date.parse(record.processors.d.startedAt!)).to.be.at.least(Date.parse(record.processors.b.finishedAt!));
    expect(Date.parse(record.processors.d.startedAt!)).to.be.at.least(Date.parse(record.processors.c.finishedAt!));
  });

  it("persists the record on disk, readable by a fresh store after the run", async () => {
    const { input, workdir } = await scratch();
    await runLocalWorkflow({ plan: diamond(), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-persist" });
    const reread = await new FileRecordStore(join(workdir, "executions")).get("wi-persist");
    expect(reread?.status).to.equal("SUCCEEDED");
    expect(reread?.snapshot.resolved.map((p) => p.id)).to.deep.equal(["a", "b", "c", "d"]);
    expect(reread?.processors.b.status).to.equal("SUCCEEDED");
  });

  it("removes merge dirs and the downloaded input at cleanup but keeps every OUTPUT_DIR", async () => {
    const { input, workdir } = await scratch();
    const plan = diamond();
    await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-clean" });
    const outputs = join(workdir, "efs", "local", "workdir", "wi-clean");
    expect((await readdir(outputs)).sort()).to.deep.equal(plan.processors.map((p) => p.hash).sort());
    expect(await exists(join(workdir, "efs", "local", "input", "wi-clean"))).to.equal(false);
  });

  it("fails the workflow on a MergeInputs collision, naming both processors and the file, and still finalizes", async () => {
    const { input, workdir } = await scratch();
    const clash = (id: string) => [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR,"same.txt"),"${id}")`];
    const record = await runLocalWorkflow({ plan: diamond({ b: clash("b"), c: clash("c") }), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-clash" });
    expect(record.status).to.equal("FAILED");
    expect(record.error?.cause).to.contain('"b"').and.contain('"c"').and.contain("same.txt");
    expect(record.processors.b.status).to.equal("SUCCEEDED");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
    expect(await exists(join(workdir, "archive", "wi-clash", "cost-report.json"))).to.equal(true);
  });

  it("records a failing processor with its exit code and log, leaves its dependants unstarted, and still finalizes", async () => {
    const { input, workdir } = await scratch();
    const fail = [process.execPath, "-e", `console.error("disk on fire"); process.exit(3)`];
    const record = await runLocalWorkflow({ plan: diamond({ c: fail }), inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-fail" });
    expect(record.status).to.equal("FAILED");
    expect(record.processors.c).to.include({ status: "FAILED", exitCode: 3 });
    expect(record.processors.c.cause).to.contain("exited with code 3");
    expect(await readFile(record.processors.c.logFile!, "utf8")).to.contain("disk on fire");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
    expect(record.error?.cause).to.contain('processor "c"');
    const onDisk = JSON.parse(await readFile(join(workdir, "executions", "wi-fail", "record.json"), "utf8"));
    expect(onDisk.processors.c.exitCode).to.equal(3);
    expect(onDisk.processors.c.logFile).to.equal(record.processors.c.logFile);
    const archived = await readdir(join(workdir, "archive", "wi-fail", "logs"));
    expect(archived.some((f) => f.startsWith("c-"))).to.equal(true);
    const report = JSON.parse(await readFile(join(workdir, "archive", "wi-fail", "cost-report.json"), "utf8"));
    expect(report.nominal).to.equal(true);
    // Every processor is listed; the one that never started costs nothing.
    const byId = Object.fromEntries(report.processors.map((p: { processorId: string }) => [p.processorId, p]));
    expect(Object.keys(byId).sort()).to.deep.equal(["a", "b", "c", "d"]);
    expect(byId.c).to.include({ status: "FAILED", attempts: 1 });
    expect(byId.d).to.include({ status: "NOT_STARTED", attempts: 0, usd: 0 });
  });

  it("hands tokens to processors through ResolveToken without writing them to the record, and deletes the token file", async () => {
    const { input, workdir } = await scratch();
    const env = { ...process.env, PENNSIEVE_SESSION_TOKEN: "sess-SECRET-123", PENNSIEVE_REFRESH_TOKEN: "refr-SECRET-456" };
    const show = [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR,"tok.txt"),process.env.SESSION_TOKEN+"|"+process.env.REFRESH_TOKEN)`];
    const plan = planOf("tokens", [{ id: "only", command: show }]);
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, env, compile: levelsMachine(), executionId: "wi-tok" });
    expect(record.status).to.equal("SUCCEEDED");
    expect(await readFile(join(workdir, "efs", "local", "workdir", "wi-tok", plan.processors[0].hash, "tok.txt"), "utf8")).to.equal("sess-SECRET-123|refr-SECRET-456");
    expect(await readFile(join(workdir, "executions", "wi-tok", "record.json"), "utf8")).not.to.contain("SECRET");
    expect(await readdir(join(workdir, "secrets"))).to.deep.equal([]);
    expect((await stat(join(workdir, "secrets"))).mode & 0o777).to.equal(0o700);
  });

  it("runs Lambda processors from the invoke payload as well as ECS ones", async () => {
    const { input, workdir } = await scratch();
    const plan = planOf("mixed", [
      { id: "first", command: copyScript("first"), computeType: "lambda" },
      { id: "second", dependsOn: ["first"], command: copyScript("second") },
    ]);
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-mixed" });
    expect(record.status).to.equal("SUCCEEDED");
    expect(await readdir(join(workdir, "efs", "local", "workdir", "wi-mixed", plan.processors[1].hash))).to.deep.equal(["second-first-hello.txt"]);
  });

  it("runs Map iterations and child machines, identifying each processor from its OUTPUT_DIR", async () => {
    const { input, workdir } = await scratch();
    const plan = planOf("fan", [
      { id: "root", command: copyScript("root") },
      ...["f1", "f2", "f3"].map((id) => ({ id, dependsOn: ["root"], command: copyScript(id) })),
      ...["g1", "g2", "g3"].map((id, i) => ({ id, dependsOn: [`f${i + 1}`], command: copyScript(id) })),
    ]);
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine({ mapLevels: true, childFrom: 2 }), executionId: "wi-fan" });
    expect(record.status).to.equal("SUCCEEDED");
    for (const [g, f] of [["g1", "f1"], ["g2", "f2"], ["g3", "f3"]]) {
      const hash = plan.processors.find((p) => p.id === g)!.hash;
      expect(await readdir(join(workdir, "efs", "local", "workdir", "wi-fan", hash))).to.deep.equal([`${g}-${f}-root-hello.txt`]);
    }
  });

  it("reports progress events in order, ending with execution-finished", async () => {
    const { input, workdir } = await scratch();
    const events: LocalRunEvent[] = [];
    const run = startLocalExecution({ plan: diamond(), inputDir: input, workdir, compile: levelsMachine(), onEvent: (e) => events.push(e) });
    const record = await run.done;
    expect(record.executionId).to.equal(run.executionId);
    expect(events.map((e) => e.sequence)).to.deep.equal(events.map((_, i) => i + 1));
    expect(events[0].type).to.equal("execution-started");
    expect(events[events.length - 1]).to.include({ type: "execution-finished", status: "SUCCEEDED" });
    expect(events.filter((e) => e.type === "processor-finished")).to.have.length(4);
    expect(events.some((e) => e.type === "step" && e.step === "merge" && e.processorId === "d")).to.equal(true);
  });

  it("refuses a processor with neither localCommand nor a reachable Docker engine before writing anything", async () => {
    const { input, workdir } = await scratch();
    const { resolvePlan } = await import("../../../lib/plan/resolve");
    const plan = resolvePlan({ name: "docker", processors: [{ id: "img", sourceUrl: "ghcr.io/org/img:1" }] });
    let caught: unknown;
    await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine(), dockerReachable: async () => false }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(UnavailableError);
    expect((caught as Error).message).to.contain('"img"').and.contain("ghcr.io/org/img:1");
    expect(await exists(join(workdir, "executions"))).to.equal(false);
  });

  it("stops a running processor and ends ABORTED when the caller aborts", async () => {
    const { input, workdir } = await scratch();
    const controller = new AbortController();
    const plan = planOf("slow", [
      { id: "quick", command: copyScript("quick") },
      { id: "sleepy", dependsOn: ["quick"], command: [process.execPath, "-e", "setTimeout(() => {}, 30000)"] },
    ]);
    const record = await runLocalWorkflow({
      plan,
      inputDir: input,
      workdir,
      compile: levelsMachine(),
      executionId: "wi-abort",
      signal: controller.signal,
      // Aborted as the processor starts: its process exists by the time the runner stops the run.
      onEvent: (e) => e.type === "processor-started" && e.processorId === "sleepy" && controller.abort(),
    });
    // "stopped" is the runner's own kill: a process left to sleep its 30 s would have exited normally.
    expect(record.status).to.equal("ABORTED");
    expect(record.processors.quick.status).to.equal("SUCCEEDED");
    expect(record.processors.sleepy.status).to.equal("FAILED");
    expect(record.processors.sleepy.cause).to.contain("stopped");
    expect(await readdir(join(workdir, "secrets"))).to.deep.equal([]);
    expect(await exists(join(workdir, "efs", "local", "input", "wi-abort"))).to.equal(false);
  });

  it("runs a processor without localCommand as `docker run` of its image, tokens passed by name only", async () => {
    const { root, input, workdir } = await scratch();
    const bin = join(root, "bin");
    await mkdir(bin);
    // A stand-in docker CLI: records its argv and plays the container by writing to OUTPUT_DIR.
    await writeFile(
      join(bin, "docker"),
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${root}/docker-argv.txt"\necho "$SESSION_TOKEN" > "${root}/docker-token.txt"\necho from-image > "$OUTPUT_DIR/out.txt"\n`,
      { mode: 0o755 },
    );
    const { resolvePlan } = await import("../../../lib/plan/resolve");
    const plan = resolvePlan({ name: "docker", processors: [{ id: "img", sourceUrl: "ghcr.io/org/img:1" }] }, { processors: [{ sourceUrl: "ghcr.io/org/img:1", commandArguments: ["--fast"] }] });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PENNSIEVE_SESSION_TOKEN: "tok-SECRET-1" };
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, env, compile: levelsMachine(), executionId: "wi-docker", dockerReachable: async () => true });
    expect(record.status).to.equal("SUCCEEDED");
    const argv = (await readFile(join(root, "docker-argv.txt"), "utf8")).trim().split("\n");
    const efs = join(workdir, "efs");
    expect(argv.slice(0, 2)).to.deep.equal(["run", "--rm"]);
    expect(argv).to.include.members(["-v", `${efs}:${efs}`, "--cpus", "0.5", "--memory", "1024m", "SESSION_TOKEN"]);
    expect(argv.slice(-2)).to.deep.equal(["ghcr.io/org/img:1", "--fast"]);
    expect(argv.join(" ")).not.to.contain("SECRET");
    expect((await readFile(join(root, "docker-token.txt"), "utf8")).trim()).to.equal("tok-SECRET-1");
    expect(await readFile(join(efs, "local", "workdir", "wi-docker", plan.processors[0].hash, "out.txt"), "utf8")).to.equal("from-image\n");
  });

  it("stops a Lambda processor at its registered timeout and fails it", async () => {
    const { input, workdir } = await scratch();
    const { resolvePlan } = await import("../../../lib/plan/resolve");
    const plan = resolvePlan(
      { name: "slow-lambda", processors: [{ id: "slow", sourceUrl: "local/slow" }] },
      { processors: [{ sourceUrl: "local/slow", computeTypes: ["lambda"], timeout: 1, localCommand: [process.execPath, "-e", "setTimeout(() => {}, 20000)"] }] },
    );
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-lambda-timeout" });
    // "timed out" is the runner's kill at the registered timeout, not the 20 s sleep ending.
    expect(record.status).to.equal("FAILED");
    expect(record.processors.slow.status).to.equal("FAILED");
    expect(record.processors.slow.cause).to.contain("timed out");
  });

  it("keeps the record on disk current while the run is under way", async () => {
    const { input, workdir } = await scratch();
    const recordFile = join(workdir, "executions", "wi-watch", "record.json");
    // While it runs, the processor waits for the record on disk to show it STARTED, then keeps a copy:
    // no fixed sleep, and it would wait forever (the test's timeout) if the record were never written mid-run.
    const watcher = `const fs=require("fs"),p=require("path");const f=${JSON.stringify(recordFile)};` +
      `const tick=()=>{let r;try{r=JSON.parse(fs.readFileSync(f,"utf8"))}catch{}` +
      `if(r&&r.processors.slow.status==="STARTED"){fs.writeFileSync(p.join(process.env.OUTPUT_DIR,"seen.json"),JSON.stringify(r));return}setTimeout(tick,10)};tick()`;
    const plan = planOf("watch", [
      { id: "quick", command: copyScript("quick") },
      { id: "slow", dependsOn: ["quick"], command: [process.execPath, "-e", watcher] },
    ]);
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, compile: levelsMachine(), executionId: "wi-watch" });
    const slow = plan.processors.find((p) => p.id === "slow")!;
    const seen = JSON.parse(await readFile(join(workdir, "efs", "local", "workdir", "wi-watch", slow.hash, "seen.json"), "utf8"));
    expect(seen.status).to.equal("RUNNING");
    expect(seen.processors.quick.status).to.equal("SUCCEEDED");
    expect(seen.processors.slow.status).to.equal("STARTED");
    expect(record.processors.slow.status).to.equal("SUCCEEDED");
  });

  it("does not count time spent waiting for a process slot against a processor state's timeout", async () => {
    const { input, workdir } = await scratch();
    const { resolvePlan } = await import("../../../lib/plan/resolve");
    const ids = ["l1", "l2", "l3"];
    const plan = resolvePlan(
      { name: "queued", processors: ids.map((id) => ({ id, sourceUrl: `local/${id}` })) },
      { processors: ids.map((id) => ({ sourceUrl: `local/${id}`, computeTypes: ["lambda" as const], timeout: 30, localCommand: [process.execPath, "-e", "setTimeout(() => {}, 700)"] })) },
    );
    // With one slot the third waits ~1.4 s, longer than the 1 s its state allows.
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, concurrency: 1, compile: levelsMachine({ runTimeoutSeconds: 1 }) });
    expect(record.status, JSON.stringify(record.error)).to.equal("SUCCEEDED");
  });

  it("runs no more processors at once than its concurrency allows", async () => {
    const { input, workdir } = await scratch();
    const sleep = [process.execPath, "-e", "setTimeout(() => {}, 150)"];
    const plan = planOf("wide", [{ id: "root", command: copyScript("root") }, ...Array.from({ length: 6 }, (_, i) => ({ id: `w${i}`, dependsOn: ["root"], command: sleep }))]);
    let running = 0;
    let peak = 0;
    const record = await runLocalWorkflow({
      plan,
      inputDir: input,
      workdir,
      compile: levelsMachine(),
      concurrency: 2,
      onEvent: (e) => {
        if (e.type === "processor-started") peak = Math.max(peak, ++running);
        if (e.type === "processor-finished") running--;
      },
    });
    expect(record.status).to.equal("SUCCEEDED");
    expect(peak).to.equal(2);
  });

  it("refuses a compiled machine that is not valid ASL before writing anything", async () => {
    const { input, workdir } = await scratch();
    const broken = () => ({ name: "broken", definition: { StartAt: "Nowhere", States: { Here: { Type: "Succeed" } } }, children: new Map() });
    let caught: unknown;
    await runLocalWorkflow({ plan: diamond(), inputDir: input, workdir, compile: broken }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(CompileError);
    expect((caught as CompileError).code).to.equal("invalid_definition");
    expect(await exists(join(workdir, "executions"))).to.equal(false);
  });

  it("refuses a missing input directory", async () => {
    const { root, workdir } = await scratch();
    let caught: unknown;
    await runLocalWorkflow({ plan: diamond(), inputDir: join(root, "nope"), workdir, compile: levelsMachine() }).catch((e) => (caught = e));
    expect(caught).to.be.instanceOf(ValidationError);
    expect((caught as ValidationError).issues[0].code).to.equal("input_not_found");
  });
});
