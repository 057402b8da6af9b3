import { expect } from "chai";
import request from "supertest";
import Ajv2020 from "ajv/dist/2020";
import { createReadyNode, removeDir, startTestService, TestService, waitForOperation } from "./helpers";

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

describe("provisioner service: OpenAPI document", () => {
  let svc: TestService;
  let doc: Doc;
  before(async () => {
    svc = await startTestService();
    doc = (await svc.get("/openapi.json").expect(200)).body;
  });
  after(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("documents exactly the routes the app serves", () => {
    const router = (svc.server.service.app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
    const served = router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m} ${layer.route!.path.replace(/:(\w+)/g, "{$1}")}`))
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
      .sort();
    expect(documented).to.deep.equal(served);
    expect(documented).to.include.members([
      "post /v1/nodes",
      "get /v1/nodes",
      "get /v1/nodes/{id}",
      "patch /v1/nodes/{id}",
      "delete /v1/nodes/{id}",
      "get /v1/operations/{id}",
      "get /v1/operations/{id}/events",
      "post /v1/operations/{id}/cancel",
      "post /v1/nodes/{id}/workflows/{name}/executions",
      "get /v1/executions/{id}",
      "get /v1/nodes/{id}/executions",
      "get /v1/executions/{id}/events",
      "post /v1/executions/{id}/cancel",
      "get /v1/executions/{id}/processors/{pid}/logs",
      "put /v1/nodes/{id}/workflows/{name}",
      "get /v1/nodes/{id}/workflows/{name}",
      "delete /v1/nodes/{id}/workflows/{name}",
      "get /v1/nodes/{id}/workflows",
      "post /v1/nodes/{id}/preview",
      "get /healthz",
      "get /readyz",
      "get /openapi.json",
    ]);
  });

  it("declares every path parameter, a 500 on every operation, and no auth on health checks only", () => {
    expect(doc.openapi).to.equal("3.1.0");
    for (const [path, ops] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === "path").map((p: { name: string }) => p.name);
        expect(declared, `${method} ${path}`).to.deep.equal(names);
        expect(op.responses, `${method} ${path}`).to.have.property("500");
        const open = Array.isArray(op.security) && op.security.length === 0;
        expect(open, `${method} ${path}`).to.equal(path === "/healthz" || path === "/readyz");
        if (!open) expect(op.responses, `${method} ${path}`).to.have.property("401");
      }
    }
  });

  it("describes request bodies from the zod schemas, with their constraints", () => {
    const ref: string = doc.paths["/v1/nodes"].post.requestBody.content["application/json"].schema.$ref;
    const body = doc.components.schemas[ref.replace("#/components/schemas/", "")] as any;
    expect(body.required).to.include.members(["id", "region"]);
    expect(body.required).to.not.include("mode");
    expect(body.properties.id.pattern).to.be.a("string");
    expect(body.properties.mode.enum).to.deep.equal(["basic", "secure", "compliant"]);
    expect(body.additionalProperties).to.equal(false);
  });

  it("matches every response the service gives: status documented and body valid against its schema", async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const check = (method: string, template: string, res: request.Response) => {
      const op = doc.paths[template][method];
      const documented = op.responses[String(res.status)];
      expect(documented, `${method} ${template} answered ${res.status}, which is not documented`).to.not.equal(undefined);
      const content = documented.content?.["application/json"];
      if (!content) return;
      const validate = ajv.compile(content.schema);
      const ok = validate(res.body);
      expect(ok, `${method} ${template} ${res.status}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    };
    const anon = request(svc.url);
    check("get", "/healthz", await anon.get("/healthz"));
    check("get", "/readyz", await anon.get("/readyz"));
    check("get", "/v1/nodes", await anon.get("/v1/nodes"));
    check("post", "/v1/nodes", await svc.post("/v1/nodes", { id: "BAD" }));
    const created = await svc.post("/v1/nodes", { id: "doc-1", region: "us-east-1" }).set("Idempotency-Key", "doc-key");
    check("post", "/v1/nodes", created);
    check("post", "/v1/nodes", await svc.post("/v1/nodes", { id: "doc-1", region: "us-east-1" }));
    check("patch", "/v1/nodes/{id}", await svc.patch("/v1/nodes/doc-1", { options: {} }));
    check("post", "/v1/nodes", await svc.post("/v1/nodes", { id: "doc-2", region: "us-east-1" }).set("Idempotency-Key", "doc-key"));
    check("get", "/v1/operations/{id}", await svc.get(`/v1/operations/${created.body.operation.id}`));
    await waitForOperation(svc, created.body.operation.id);
    check("post", "/v1/nodes", await svc.post("/v1/nodes", { id: "doc-1", region: "us-east-1" }).set("Idempotency-Key", "doc-key"));
    check("post", "/v1/operations/{id}/cancel", await svc.post(`/v1/operations/${created.body.operation.id}/cancel`));
    check("get", "/v1/nodes/{id}", await svc.get("/v1/nodes/doc-1"));
    check("get", "/v1/nodes/{id}", await svc.get("/v1/nodes/none"));
    check("get", "/v1/nodes", await svc.get("/v1/nodes"));
    check("patch", "/v1/nodes/{id}", await svc.patch("/v1/nodes/doc-1", { nope: 1 }));
    check("post", "/v1/nodes/{id}/workflows/{name}/executions", await svc.post("/v1/nodes/doc-1/workflows/w/executions", { workflow: { processors: [] } }));
    check("get", "/v1/executions/{id}", await svc.get("/v1/executions/none"));
    check("delete", "/v1/nodes/{id}", await svc.del("/v1/nodes/doc-1?force=maybe"));
    const destroy = await svc.del("/v1/nodes/doc-1");
    check("delete", "/v1/nodes/{id}", destroy);
    check("get", "/v1/operations/{id}", await svc.get(`/v1/operations/${destroy.body.operation.id}`));
    await waitForOperation(svc, destroy.body.operation.id);
    check("get", "/v1/operations/{id}/events", await svc.get(`/v1/operations/${destroy.body.operation.id}/events`).set("Last-Event-ID", "999"));
    check("get", "/openapi.json", await svc.get("/openapi.json"));
    await createReadyNode(svc, "doc-3");
  });

  it("matches every response of the execution, workflow and preview routes", async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema as object, `#/components/schemas/${name}`);
    const check = (method: string, template: string, res: request.Response) => {
      const documented = doc.paths[template][method].responses[String(res.status)];
      expect(documented, `${method} ${template} answered ${res.status}, which is not documented`).to.not.equal(undefined);
      const content = documented.content?.["application/json"];
      if (!content) return res;
      const validate = ajv.compile(content.schema);
      expect(validate(res.body), `${method} ${template} ${res.status}: ${JSON.stringify(validate.errors)}`).to.equal(true);
      return res;
    };
    await createReadyNode(svc, "doc-4");
    const writeOut = ["/bin/sh", "-c", 'echo hi; echo ok > "$OUTPUT_DIR/out.txt"'];
    const body = { workflow: { name: "w", processors: [{ id: "a", sourceUrl: "local/a" }] }, processors: [{ sourceUrl: "local/a", localCommand: writeOut }] };
    check("put", "/v1/nodes/{id}/workflows/{name}", await svc.put("/v1/nodes/doc-4/workflows/w", body));
    check("put", "/v1/nodes/{id}/workflows/{name}", await svc.put("/v1/nodes/doc-4/workflows/w", body));
    check("put", "/v1/nodes/{id}/workflows/{name}", await svc.put("/v1/nodes/doc-4/workflows/w", { workflow: { processors: [] } }));
    check("get", "/v1/nodes/{id}/workflows/{name}", await svc.get("/v1/nodes/doc-4/workflows/w"));
    check("get", "/v1/nodes/{id}/workflows/{name}", await svc.get("/v1/nodes/doc-4/workflows/none"));
    check("get", "/v1/nodes/{id}/workflows", await svc.get("/v1/nodes/doc-4/workflows"));
    const started = check("post", "/v1/nodes/{id}/workflows/{name}/executions", await svc.post("/v1/nodes/doc-4/workflows/w/executions", {}).set("Idempotency-Key", "doc-exec"));
    check("post", "/v1/nodes/{id}/workflows/{name}/executions", await svc.post("/v1/nodes/doc-4/workflows/w/executions", {}).set("Idempotency-Key", "doc-exec"));
    check("post", "/v1/nodes/{id}/workflows/{name}/executions", await svc.post("/v1/nodes/doc-4/workflows/w/executions", body).set("Idempotency-Key", "doc-exec"));
    const id = started.body.executionId;
    for (let i = 0; i < 1000; i++) {
      const record = check("get", "/v1/executions/{id}", await svc.get(`/v1/executions/${id}`));
      if (["SUCCEEDED", "FAILED"].includes(record.body.status)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    check("get", "/v1/nodes/{id}/executions", await svc.get("/v1/nodes/doc-4/executions?limit=1"));
    check("get", "/v1/nodes/{id}/executions", await svc.get("/v1/nodes/doc-4/executions?cursor=zzz"));
    check("get", "/v1/nodes/{id}/executions", await svc.get("/v1/nodes/none/executions"));
    check("post", "/v1/executions/{id}/cancel", await svc.post(`/v1/executions/${id}/cancel`));
    check("post", "/v1/executions/{id}/cancel", await svc.post("/v1/executions/none/cancel"));
    check("get", "/v1/executions/{id}/events", await svc.get(`/v1/executions/${id}/events`));
    check("get", "/v1/executions/{id}/events", await svc.get(`/v1/executions/${id}/events`).set("Last-Event-ID", "999"));
    check("get", "/v1/executions/{id}/events", await svc.get(`/v1/executions/${id}/events`).set("Last-Event-ID", "x"));
    check("get", "/v1/executions/{id}/processors/{pid}/logs", await svc.get(`/v1/executions/${id}/processors/a/logs`));
    check("get", "/v1/executions/{id}/processors/{pid}/logs", await svc.get(`/v1/executions/${id}/processors/zz/logs`));
    check("post", "/v1/nodes/{id}/preview", await svc.post("/v1/nodes/doc-4/preview", { mode: "secure" }));
    check("post", "/v1/nodes/{id}/preview", await svc.post("/v1/nodes/none/preview"));
    check("delete", "/v1/nodes/{id}/workflows/{name}", await svc.del("/v1/nodes/doc-4/workflows/w"));
    check("delete", "/v1/nodes/{id}/workflows/{name}", await svc.del("/v1/nodes/doc-4/workflows/w"));
  });
});
