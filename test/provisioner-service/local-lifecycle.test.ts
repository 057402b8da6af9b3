import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { runServe } from "../../lib/cli/commands/serve";
import { CliIo } from "../../lib/cli/io";
import { RunningServer } from "../../provisioner-service/server";
import { readSse, SseMessage } from "./helpers";

const TOKEN = "lifecycle-token-0123456789";

/** `compute-node serve --local` as the CLI runs it, with no Pulumi CLI anywhere (empty PATH, empty engine cache). */
async function serveLocal(dir: string) {
  const tokenFile = join(dir, "token");
  await writeFile(tokenFile, TOKEN + "\n", { mode: 0o600 });
  const out: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), cwd: dir, env: { PATH: join(dir, "empty-bin"), COMPUTE_NODE_ENGINE_DIR: join(dir, "no-engine") } };
  let server!: RunningServer;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  let exited!: Promise<number>;
  await new Promise<void>((ready) => {
    exited = runServe({ port: 0, host: "127.0.0.1", local: true, dataDir: join(dir, "data"), tokenFile, insecureNoAuth: false, maxConcurrentOperations: 2, lockWaitSeconds: 1 }, io, {
      onListening: (s) => ((server = s), ready()),
      stopped,
    });
  });
  const auth = (t: request.Test) => t.set("Authorization", `Bearer ${TOKEN}`);
  return {
    url: server.url,
    dataDir: join(dir, "data"),
    out,
    get: (path: string) => auth(request(server.url).get(path)),
    post: (path: string, body?: unknown) => auth(request(server.url).post(path)).send(body as object),
    put: (path: string, body: unknown) => auth(request(server.url).put(path)).send(body as object),
    del: (path: string) => auth(request(server.url).delete(path)),
    sse: (path: string, headers: Record<string, string> = {}) => readSse(`${server.url}${path}`, { Authorization: `Bearer ${TOKEN}`, ...headers }),
    stop: async () => {
      stop();
      return exited;
    },
  };
}
type Local = Awaited<ReturnType<typeof serveLocal>>;

/** Bounded polling on a condition, never a fixed wait: a slow machine only takes more iterations. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, attempts = 1500): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const waitForOperation = (svc: Local, id: string) => until(`operation ${id}`, async () => (await svc.get(`/v1/operations/${id}`).expect(200)).body, (op) => !["queued", "running"].includes(op.state));
const waitForStatus = (svc: Local, id: string, statuses: string[]) => until(`execution ${id} to be ${statuses.join("/")}`, async () => (await svc.get(`/v1/executions/${id}`).expect(200)).body, (r) => statuses.includes(r.status));

/** A processor that records its pid, then becomes `sleep` itself (exec), so the pid is the process the runner must stop. */
const sleeper = (pidFile: string) => ["/bin/sh", "-c", `echo $$ > '${pidFile}'; exec sleep 60`];
const writer = ["/bin/sh", "-c", 'echo hello from $WORKFLOW_INSTANCE_ID; echo done > "$OUTPUT_DIR/out.txt"'];

function pipeline(dir: string) {
  return {
    workflow: {
      name: "pipeline",
      processors: [
        { id: "a", sourceUrl: "local/a" },
        { id: "b", sourceUrl: "local/b" },
        { id: "c", sourceUrl: "local/c", dependsOn: ["a", "b"] },
      ],
    },
    processors: [
      { sourceUrl: "local/a", localCommand: sleeper(join(dir, "a.pid")) },
      { sourceUrl: "local/b", localCommand: sleeper(join(dir, "b.pid")) },
      { sourceUrl: "local/c", localCommand: writer },
    ],
  };
}

const quick = { workflow: { name: "quick", processors: [{ id: "w", sourceUrl: "local/w" }] }, processors: [{ sourceUrl: "local/w", localCommand: writer }] };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).to.equal("ESRCH");
    return false;
  }
}

const statusesOf = (messages: SseMessage[]) => messages.map((m) => (m.data.type === "processor-status" ? `${m.data.processorId}:${m.data.status}` : m.data.status));

describe("serve --local without a Pulumi CLI: the local node engine", function () {
  this.timeout(120000);
  let dir: string;
  let svc: Local;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-lifecycle-"));
    svc = await serveLocal(dir);
  });
  afterEach(async () => {
    await svc.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a node, registers a workflow, starts, watches, cancels a multi-processor run leaving no process, and destroys the node", async () => {
    const ready = (await request(svc.url).get("/readyz").expect(200)).body;
    expect(ready.checks).to.include({ nodeEngine: "local", runtime: "local", engine: "ok" });

    const created = await svc.post("/v1/nodes", { id: "lab", region: "us-east-1" }).expect(202);
    expect((await waitForOperation(svc, created.body.operation.id)).state).to.equal("succeeded");
    const node = (await svc.get("/v1/nodes/lab").expect(200)).body;
    expect(node.status).to.equal("ready");
    expect(node.outputs).to.include({ computeNodeId: "lab", runtime: "local", workdir: "runtime/lab" });

    const registered = await svc.put("/v1/nodes/lab/workflows/pipeline", pipeline(dir)).expect(201);
    expect(registered.body.changed).to.equal(true);
    expect((await svc.put("/v1/nodes/lab/workflows/pipeline", pipeline(dir)).expect(200)).body.changed).to.equal(false);
    const definition = (await svc.get("/v1/nodes/lab/workflows/pipeline").expect(200)).body;
    expect(definition.workflow.processors.map((p: { id: string }) => p.id)).to.deep.equal(["a", "b", "c"]);
    expect(definition.processors).to.have.length(3);
    expect((await svc.get("/v1/nodes/lab/workflows").expect(200)).body.workflows.map((w: { name: string }) => w.name)).to.deep.equal(["pipeline"]);

    // No workflow in the body: the registered definition runs.
    const started = await svc.post("/v1/nodes/lab/workflows/pipeline/executions", {}).expect(202);
    const executionId: string = started.body.executionId;
    const stream = svc.sse(`/v1/executions/${executionId}/events`);
    const pids = await until("both processors to start", async () => Promise.all(["a", "b"].map((p) => readFile(join(dir, `${p}.pid`), "utf8").catch(() => ""))), (texts) => texts.every((t) => t.trim() !== ""));
    const [pidA, pidB] = pids.map((t) => Number(t.trim()));
    await until("both processors STARTED in the record", async () => (await svc.get(`/v1/executions/${executionId}`)).body, (r) => r.processors.a.status === "STARTED" && r.processors.b.status === "STARTED");
    expect(alive(pidA) && alive(pidB)).to.equal(true);

    const refusedDestroy = await svc.del("/v1/nodes/lab").expect(409);
    expect(refusedDestroy.body.error.holderId).to.equal(executionId);
    expect((await svc.del("/v1/nodes/lab/workflows/pipeline").expect(409)).body.error.holderId).to.equal(executionId);

    const canceling = await svc.post(`/v1/executions/${executionId}/cancel`).expect(202);
    expect(["CANCELING", "CANCELED"]).to.include(canceling.body.status);
    await svc.post(`/v1/executions/${executionId}/cancel`).expect(202);

    const events = await stream;
    expect(events.status).to.equal(200);
    expect(events.contentType).to.match(/^text\/event-stream/);
    expect(events.messages.map((m) => Number(m.id))).to.deep.equal(events.messages.map((_, i) => i + 1));
    const seen = statusesOf(events.messages);
    expect(seen[0]).to.equal("PENDING");
    expect(seen[seen.length - 1]).to.equal("CANCELED");
    expect(seen).to.include.members(["RUNNING", "a:STARTED", "b:STARTED", "CANCELING", "a:CANCELED", "b:CANCELED"]);
    expect(seen.indexOf("RUNNING")).to.be.lessThan(seen.indexOf("a:STARTED"));
    expect(seen.indexOf("a:STARTED")).to.be.lessThan(seen.indexOf("a:CANCELED"));
    expect(seen.indexOf("CANCELING")).to.be.lessThan(seen.indexOf("CANCELED"));
    expect(seen).to.not.include("c:STARTED");

    // No process of the run is left (the processors exec'd into sleep: these are the runner's direct children).
    expect(alive(pidA)).to.equal(false);
    expect(alive(pidB)).to.equal(false);

    const record = (await svc.get(`/v1/executions/${executionId}`).expect(200)).body;
    expect(record.status).to.equal("CANCELED");
    expect(Object.fromEntries(Object.entries(record.processors).map(([id, p]) => [id, (p as { status: string }).status]))).to.deep.equal({ a: "CANCELED", b: "CANCELED", c: "NOT_STARTED" });
    // The processors' own commands name the test's directory; nothing names the service's.
    expect(JSON.stringify(record)).to.not.include(svc.dataDir);
    for (const value of Object.values(record.artifacts ?? {})) expect(value).to.not.match(/^\//);
    expect(record.processors.a).to.not.have.property("logFile");
    await svc.post(`/v1/executions/${executionId}/cancel`).expect(202);

    // Resume: only what came after the given id; nothing left after the last one.
    const resumed = await svc.sse(`/v1/executions/${executionId}/events`, { "Last-Event-ID": "2" });
    expect(resumed.messages.map((m) => m.id)).to.deep.equal(events.messages.slice(2).map((m) => m.id));
    expect(statusesOf(resumed.messages)).to.deep.equal(seen.slice(2));
    expect((await svc.sse(`/v1/executions/${executionId}/events`, { "Last-Event-ID": String(events.messages.length) })).status).to.equal(204);

    const log = await svc.get(`/v1/executions/${executionId}/processors/a/logs`).expect(200);
    expect(log.headers["content-type"]).to.match(/^text\/plain/);
    expect(log.text).to.include("# a attempt 1");
    await svc.get(`/v1/executions/${executionId}/processors/nope/logs`).expect(404);

    // A run that finishes: the CLI's workflow JSON, name included; cancelling it afterwards is a conflict naming its status.
    const done = await svc.post("/v1/nodes/lab/workflows/quick/executions", quick).expect(202);
    expect((await waitForStatus(svc, done.body.executionId, ["SUCCEEDED", "FAILED"])).status).to.equal("SUCCEEDED");
    const followed = await svc.get(`/v1/executions/${done.body.executionId}/processors/w/logs?follow=true`).expect(200);
    expect(followed.text).to.include(`hello from ${done.body.executionId}`);
    const late = await svc.post(`/v1/executions/${done.body.executionId}/cancel`).expect(409);
    expect(late.body.error.message).to.include("SUCCEEDED");
    const mismatch = await svc.post("/v1/nodes/lab/workflows/other/executions", quick).expect(400);
    expect(mismatch.body.error.issues[0]).to.include({ code: "workflow_name_mismatch", field: "body.workflow.name" });
    expect(mismatch.body.error.issues[0].message).to.include('"quick"').and.include('"other"');

    await svc.del("/v1/nodes/lab/workflows/pipeline").expect(204);
    await svc.get("/v1/nodes/lab/workflows/pipeline").expect(404);
    await svc.del("/v1/nodes/lab/workflows/pipeline").expect(404);

    await svc.put("/v1/nodes/lab/workflows/quick", quick).expect(201);
    const destroyed = await svc.del("/v1/nodes/lab").expect(202);
    expect((await waitForOperation(svc, destroyed.body.operation.id)).state).to.equal("succeeded");
    await svc.get("/v1/nodes/lab").expect(404);
    expect(existsSync(join(svc.dataDir, "runtime", "lab"))).to.equal(false);
    // Created again under the same id, the node has none of the old one's definitions or executions.
    const again = await svc.post("/v1/nodes", { id: "lab", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, again.body.operation.id);
    expect((await svc.get("/v1/nodes/lab/workflows").expect(200)).body.workflows).to.deep.equal([]);
    expect((await svc.get("/v1/nodes/lab/executions").expect(200)).body.executions).to.deep.equal([]);
  });

  it("delivers a run's results to a directory below the data dir's outputs/, shows it relative to there, and refuses one outside", async () => {
    const created = await svc.post("/v1/nodes", { id: "out", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, created.body.operation.id);
    const started = await svc.post("/v1/nodes/out/workflows/quick/executions", { ...quick, invocation: { outputs: "runs/{workflowInstanceId}" } }).expect(202);
    const { executionId } = started.body;
    const record = await waitForStatus(svc, executionId, ["SUCCEEDED", "FAILED"]);
    expect(record.status).to.equal("SUCCEEDED");
    expect(await readFile(join(svc.dataDir, "outputs", "runs", executionId, "w", "out.txt"), "utf8")).to.equal("done\n");
    expect(record.outputs).to.deep.include({ destination: `runs/${executionId}`, files: 1, bytes: 5, processorCount: 1 });
    expect(record.outputs.sample).to.deep.equal([`runs/${executionId}/w/out.txt`]);
    expect(JSON.stringify(record)).to.not.include(svc.dataDir);

    for (const outputs of ["../escape", "/tmp/anywhere", "file:///tmp/anywhere"]) {
      const refused = await svc.post("/v1/nodes/out/workflows/quick/executions", { ...quick, invocation: { outputs } }).expect(400);
      expect(refused.body.error.issues[0], outputs).to.include({ code: "outputs_outside_root" });
    }
    expect(existsSync(join(dir, "escape"))).to.equal(false);
    expect((await svc.get("/v1/nodes/out/executions").expect(200)).body.executions).to.have.length(1);
  });

  it("previews a change without making it: counts and the per-resource step with the properties that change", async () => {
    const created = await svc.post("/v1/nodes", { id: "plan", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, created.body.operation.id);
    const unchanged = (await svc.post("/v1/nodes/plan/preview").expect(200)).body;
    expect(unchanged).to.deep.include({ nodeId: "plan", mode: "basic", resourceChanges: { same: 1 } });
    const change = (await svc.post("/v1/nodes/plan/preview", { mode: "secure", options: { environment: "dev" } }).expect(200)).body;
    expect(change.mode).to.equal("secure");
    expect(change.resourceChanges).to.deep.equal({ update: 1 });
    expect(change.steps[0]).to.include({ op: "update" });
    expect(change.steps[0].diffs).to.deep.equal(["mode", "options.environment"]);
    const node = (await svc.get("/v1/nodes/plan").expect(200)).body;
    expect(node.mode).to.equal("basic");
    expect(node.options).to.deep.equal({});
    await svc.post("/v1/nodes/plan/preview", { mode: "nope" }).expect(400);
    // Options are checked against the node program's config schema, as for a real node.
    const bad = await svc.post("/v1/nodes/plan/preview", { options: { vpcCidr: "not-a-cidr" } }).expect(400);
    expect(bad.body.error.issues[0].field).to.equal("body.options.vpcCidr");
    await svc.post("/v1/nodes/ghost/preview").expect(404);
  });

  it("pages executions newest first with an opaque cursor, filters by status and workflow, and refuses bad cursors and statuses", async () => {
    const created = await svc.post("/v1/nodes", { id: "pages", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, created.body.operation.id);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = await svc.post("/v1/nodes/pages/workflows/quick/executions", quick).expect(202);
      await waitForStatus(svc, started.body.executionId, ["SUCCEEDED", "FAILED"]);
      ids.push(started.body.executionId);
    }
    const first = (await svc.get("/v1/nodes/pages/executions?limit=2").expect(200)).body;
    const second = (await svc.get(`/v1/nodes/pages/executions?limit=2&cursor=${first.nextCursor}`).expect(200)).body;
    const listed = [...first.executions, ...second.executions].map((r: { executionId: string }) => r.executionId);
    const all = (await svc.get("/v1/nodes/pages/executions").expect(200)).body.executions;
    expect(listed).to.deep.equal(all.map((r: { executionId: string }) => r.executionId));
    expect(new Set(listed)).to.deep.equal(new Set(ids));
    const created_ = all.map((r: { createdAt: string }) => r.createdAt);
    expect(created_).to.deep.equal([...created_].sort().reverse());
    expect(first.nextCursor).to.be.a("string");
    expect(second).to.not.have.property("nextCursor");
    expect((await svc.get("/v1/nodes/pages/executions?status=SUCCEEDED&workflow=quick").expect(200)).body.executions).to.have.length(3);
    expect((await svc.get("/v1/nodes/pages/executions?status=CANCELED").expect(200)).body.executions).to.deep.equal([]);
    expect((await svc.get("/v1/nodes/pages/executions?workflow=other").expect(200)).body.executions).to.deep.equal([]);

    const badCursor = await svc.get("/v1/nodes/pages/executions?cursor=not-a-cursor").expect(400);
    expect(badCursor.body.error.issues[0]).to.include({ code: "invalid_cursor", field: "query.cursor" });
    const otherFilter = await svc.get(`/v1/nodes/pages/executions?status=SUCCEEDED&cursor=${first.nextCursor}`).expect(400);
    expect(otherFilter.body.error.issues[0].message).to.include("other filters");
    const badStatus = await svc.get("/v1/nodes/pages/executions?status=DONE").expect(400);
    expect(badStatus.body.error.issues[0]).to.include({ code: "invalid_status", field: "query.status" });
    expect(badStatus.body.error.issues[0].message).to.include("CANCELED");
    await svc.get("/v1/nodes/pages/executions?limit=201").expect(400);
    await svc.get("/v1/nodes/pages/executions?limit=0").expect(400);
  });

  it("starts one execution per Idempotency-Key: a repeat gets the same id without a second start, another body gets 422", async () => {
    const created = await svc.post("/v1/nodes", { id: "idem", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, created.body.operation.id);
    const first = await svc.post("/v1/nodes/idem/workflows/quick/executions", quick).set("Idempotency-Key", "start-1").expect(202);
    const again = await svc.post("/v1/nodes/idem/workflows/quick/executions", { processors: quick.processors, workflow: { processors: quick.workflow.processors, name: "quick" } }).set("Idempotency-Key", "start-1").expect(200);
    expect(again.body.executionId).to.equal(first.body.executionId);
    expect(again.headers.location).to.equal(`/v1/executions/${first.body.executionId}`);
    const reused = await svc.post("/v1/nodes/idem/workflows/quick/executions", { ...quick, invocation: { packageIds: ["N:package:1"] } }).set("Idempotency-Key", "start-1").expect(422);
    expect(reused.body.error.code).to.equal("idempotency_key_reused");
    expect(reused.body.error.message).to.include("start-1");
    await waitForStatus(svc, first.body.executionId, ["SUCCEEDED", "FAILED"]);
    expect((await svc.get("/v1/nodes/idem/executions").expect(200)).body.executions).to.have.length(1);
  });
});

describe("serve --local: shutdown and restart", function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "cn-restart-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("aborts its running executions on shutdown, and after a restart marks what a killed process left running FAILED (interrupted) and lets the node be destroyed", async () => {
    let svc = await serveLocal(dir);
    const created = await svc.post("/v1/nodes", { id: "boot", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, created.body.operation.id);
    const long = await svc.post("/v1/nodes/boot/workflows/pipeline/executions", pipeline(dir)).expect(202);
    const pids = await until("the processors to start", async () => Promise.all(["a", "b"].map((p) => readFile(join(dir, `${p}.pid`), "utf8").catch(() => ""))), (t) => t.every((x) => x.trim() !== ""));
    const finished = await svc.post("/v1/nodes/boot/workflows/quick/executions", quick).expect(202);
    await waitForStatus(svc, finished.body.executionId, ["SUCCEEDED"]);
    expect(await svc.stop()).to.equal(0);
    for (const pid of pids.map((t) => Number(t.trim()))) expect(alive(pid)).to.equal(false);

    // What a process killed mid-run leaves: a record still RUNNING with a processor STARTED.
    const recordFile = join(dir, "data", "runtime", "boot", "executions", finished.body.executionId, "record.json");
    const left = JSON.parse(await readFile(recordFile, "utf8"));
    await writeFile(recordFile, JSON.stringify({ ...left, status: "RUNNING", finishedAt: undefined, processors: { w: { status: "STARTED", startedAt: left.processors.w.startedAt } } }));

    svc = await serveLocal(dir);
    const shutDown = (await svc.get(`/v1/executions/${long.body.executionId}`).expect(200)).body;
    expect(shutDown.status).to.equal("ABORTED");
    const interrupted = (await svc.get(`/v1/executions/${finished.body.executionId}`).expect(200)).body;
    expect(interrupted.status).to.equal("FAILED");
    expect(interrupted.error.cause).to.include("interrupted");
    expect(interrupted.processors.w.status).to.equal("FAILED");
    expect((await svc.get("/v1/nodes/boot/executions?status=RUNNING").expect(200)).body.executions).to.deep.equal([]);
    const destroyed = await svc.del("/v1/nodes/boot").expect(202);
    expect((await waitForOperation(svc, destroyed.body.operation.id)).state).to.equal("succeeded");
    expect(await svc.stop()).to.equal(0);
  });

  it("resumes an execution's event stream after a restart with the same event ids", async () => {
    let svc = await serveLocal(dir);
    const created = await svc.post("/v1/nodes", { id: "resume", region: "us-east-1" }).expect(202);
    await waitForOperation(svc, created.body.operation.id);
    const started = await svc.post("/v1/nodes/resume/workflows/pipeline/executions", pipeline(dir)).expect(202);
    const id = started.body.executionId;
    const stream = svc.sse(`/v1/executions/${id}/events`);
    await until("both processors STARTED", async () => (await svc.get(`/v1/executions/${id}`)).body, (r) => r.processors.a.status === "STARTED" && r.processors.b.status === "STARTED");
    await svc.post(`/v1/executions/${id}/cancel`).expect(202);
    const live = (await stream).messages;
    expect(statusesOf(live)).to.include("CANCELING");
    expect(await svc.stop()).to.equal(0);

    svc = await serveLocal(dir);
    try {
      const resumed = await svc.sse(`/v1/executions/${id}/events`, { "Last-Event-ID": "2" });
      expect(resumed.messages.map((m) => [m.id, m.data.type, m.data.status, m.data.processorId])).to.deep.equal(live.slice(2).map((m) => [m.id, m.data.type, m.data.status, m.data.processorId]));
      expect((await svc.sse(`/v1/executions/${id}/events`, { "Last-Event-ID": String(live.length) })).status).to.equal(204);
    } finally {
      expect(await svc.stop()).to.equal(0);
    }
  });
});
