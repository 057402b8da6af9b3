import { expect } from "chai";
import { connect } from "node:net";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import request from "supertest";
import { createReadyNode, removeDir, startTestService, TestService, TOKEN } from "./helpers";

/** Sends raw bytes and reads the whole answer: clients refuse to send some of what is tested here. */
function rawRequest(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("close", () => resolve(answer));
    socket.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" || err.code === "EPIPE" ? resolve(answer) : reject(err)));
  });
}

async function finished(svc: TestService, executionId: string): Promise<Record<string, any>> {
  let record: Record<string, any> = {};
  for (let i = 0; i < 1000 && !["SUCCEEDED", "FAILED"].includes(record.status); i++) {
    record = (await svc.get(`/v1/executions/${executionId}`).expect(200)).body;
    if (!["SUCCEEDED", "FAILED"].includes(record.status)) await new Promise((r) => setTimeout(r, 20));
  }
  return record;
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("provisioner service: hostile requests", () => {
  let svc: TestService;
  beforeEach(async () => (svc = await startTestService()));
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("answers a malformed percent-encoding in the path with 400 and the error envelope", async () => {
    const res = await svc.get("/v1/nodes/%E0%A4%A").expect(400);
    expect(res.body.error).to.include({ code: "invalid_path" });
    expect(res.body.error.requestId).to.be.a("string");
  });

  it("answers a body nested past the depth limit with 400, and starts nothing", async () => {
    await createReadyNode(svc, "deep-1");
    const body = `{"workflow": {"processors": [{"id": "a", "sourceUrl": "local/a"}]}, "processors": [{"sourceUrl": "local/a", "params": {"x": ${nested(100_000)}}}]}`;
    const res = await svc.post("/v1/nodes/deep-1/workflows/w/executions").set("Content-Type", "application/json").send(body).expect(400);
    expect(res.body.error).to.include({ code: "body_too_deep" });
    expect(res.body.error.message).to.contain("64");
    const runtime = join(svc.dataDir, "runtime");
    const leftovers = await readdir(runtime, { recursive: true }).catch(() => [] as string[]);
    expect(leftovers.filter((p) => String(p).includes("executions"))).to.deep.equal([]);
  });

  it("still accepts a body nested within the limit", async () => {
    await createReadyNode(svc, "deep-2");
    const res = await svc
      .post("/v1/nodes/deep-2/workflows/w/executions")
      .set("Content-Type", "application/json")
      .send(`{"workflow": {"processors": [{"id": "a", "sourceUrl": "local/a"}]}, "processors": [{"sourceUrl": "local/a", "localCommand": ["${process.execPath.replace(/\\/g, "\\\\")}", "-e", "0"], "params": {"x": ${nested(40)}}}]}`);
    expect(res.status).to.equal(202);
    await finished(svc, res.body.executionId);
  });

  it("answers headers past the server's limit with 431 and the JSON error envelope", async () => {
    const answer = await rawRequest(svc.url, `GET /v1/nodes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
    expect(answer.startsWith("HTTP/1.1 431")).to.equal(true);
    expect(answer.toLowerCase()).to.contain("content-type: application/json");
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(body.error).to.include({ code: "headers_too_large" });
  });

  it("answers a malformed request line with 400 and the JSON error envelope", async () => {
    const answer = await rawRequest(svc.url, "NOT-HTTP\r\n\r\n");
    expect(answer.startsWith("HTTP/1.1 400")).to.equal(true);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error.code).to.equal("bad_request");
  });

  it("reports a merge collision once by name, not 'MergeCollision: MergeCollision: …'", async () => {
    await createReadyNode(svc, "clash-1");
    const write = (id: string) => [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR, "same.txt"), "${id}")`];
    const ok = [process.execPath, "-e", "0"];
    const started = await svc
      .post("/v1/nodes/clash-1/workflows/w/executions", {
        workflow: { processors: [{ id: "b", sourceUrl: "local/b" }, { id: "c", sourceUrl: "local/c" }, { id: "d", sourceUrl: "local/d", dependsOn: ["b", "c"] }] },
        processors: [{ sourceUrl: "local/b", localCommand: write("b") }, { sourceUrl: "local/c", localCommand: write("c") }, { sourceUrl: "local/d", localCommand: ok }],
      })
      .expect(202);
    const record = await finished(svc, started.body.executionId);
    expect(record.status).to.equal("FAILED");
    expect(record.error.error).to.equal("MergeCollision");
    expect(record.error.cause).to.contain("same.txt").and.not.match(/^MergeCollision/);
  });

  it("answers an unauthenticated request with a malformed path with the error envelope, never a 500", async () => {
    const res = await request(svc.url).get("/v1/nodes/%E0%A4%A");
    expect([400, 401]).to.include(res.status);
    expect(res.body.error).to.be.an("object");
  });
});
