import { expect } from "chai";
import request from "supertest";
import { FileProvisionStore } from "../../lib/provision/file-store";
import { removeDir, startTestService, TestService, TOKEN } from "./helpers";

describe("provisioner service: auth, errors and logs", () => {
  let svc: TestService;
  beforeEach(async () => (svc = await startTestService()));
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("refuses every API endpoint without a valid bearer token with 401", async () => {
    for (const [method, path] of [
      ["get", "/v1/nodes"],
      ["post", "/v1/nodes"],
      ["get", "/v1/nodes/x"],
      ["patch", "/v1/nodes/x"],
      ["delete", "/v1/nodes/x"],
      ["get", "/v1/operations/x"],
      ["get", "/v1/operations/x/events"],
      ["post", "/v1/operations/x/cancel"],
      ["post", "/v1/nodes/x/workflows/w/executions"],
      ["get", "/v1/executions/x"],
      ["get", "/openapi.json"],
    ] as const) {
      const none = await request(svc.url)[method](path).expect(401);
      expect(none.headers["www-authenticate"], `${method} ${path}`).to.match(/^Bearer/);
      expect(none.body.error.code).to.equal("unauthorized");
      await request(svc.url)[method](path).set("Authorization", "Bearer wrong-token-value").expect(401);
      await request(svc.url)[method](path).set("Authorization", `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}`).expect(401);
    }
  });

  it("answers health checks without a token", async () => {
    expect((await request(svc.url).get("/healthz").expect(200)).body).to.deep.equal({ status: "ok" });
    expect((await request(svc.url).get("/readyz").expect(200)).body.ready).to.equal(true);
  });

  it("writes one JSON log line per request with its request id, and never a token", async () => {
    await request(svc.url).get("/v1/nodes").set("Authorization", "Bearer wrong-secret-in-header").set("X-Request-Id", "req-abc.1").expect(401);
    const ok = await svc.get("/v1/nodes?token=query-secret").expect(200);
    expect(ok.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
    const lines = svc.logs.map((l) => JSON.parse(l));
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests.find((l) => l.requestId === "req-abc.1")).to.include({ method: "GET", path: "/v1/nodes", status: 401 });
    expect(requests.find((l) => l.requestId === ok.headers["x-request-id"])).to.include({ status: 200 });
    const all = svc.logs.join("");
    for (const secret of [TOKEN, "wrong-secret-in-header", "query-secret"]) expect(all).to.not.include(secret);
  });

  it("logs each finished operation with its node, kind, state and error code", async () => {
    svc.engine.failNext("log-1", "up");
    const res = await svc.post("/v1/nodes", { id: "log-1", region: "us-east-1" }).expect(202);
    for (let i = 0; i < 200 && !svc.logs.some((l) => l.includes("operation finished")); i++) await new Promise((r) => setTimeout(r, 10));
    const line = svc.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "operation finished");
    expect(line).to.include({ level: "warn", operationId: res.body.operation.id, nodeId: "log-1", kind: "create", state: "failed", errorCode: "stack_operation_failed" });
  });

  it("replaces an unsafe X-Request-Id with its own", async () => {
    const res = await svc.get("/v1/nodes").set("X-Request-Id", "bad id with spaces/and slashes").expect(200);
    expect(res.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
  });

  it("answers an unknown path with 404 and a wrong method with 405 and Allow", async () => {
    expect((await svc.get("/v2/nodes").expect(404)).body.error.code).to.equal("not_found");
    const res = await svc.post("/v1/executions/abc").expect(405);
    expect(res.headers.allow).to.equal("GET");
  });

  it("answers 500 without internal detail when something of ours breaks, and logs the detail", async () => {
    await svc.close();
    let broken = false;
    class BrokenStore extends FileProvisionStore {
      override async listNodes() {
        if (broken) throw new Error("disk exploded at /srv/private/path");
        return super.listNodes();
      }
    }
    svc = await startTestService({ store: (dir) => new BrokenStore(dir) });
    broken = true;
    const res = await svc.get("/v1/nodes").expect(500);
    expect(res.body.error.code).to.equal("internal");
    expect(JSON.stringify(res.body)).to.not.include("exploded");
    expect(res.body.error.message).to.include(res.body.error.requestId);
    const logged = svc.logs.map((l) => JSON.parse(l)).find((l) => l.level === "error");
    expect(logged.requestId).to.equal(res.body.error.requestId);
    expect(logged.error.message).to.include("disk exploded");
  });

  it("refuses a body larger than the limit with 413", async () => {
    const big = { id: "big", region: "us-east-1", options: { blob: "x".repeat(1_100_000) } };
    expect((await svc.post("/v1/nodes", big).expect(413)).body.error.code).to.equal("body_too_large");
  });
});
