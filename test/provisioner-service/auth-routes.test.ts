import { expect } from "chai";
import express from "express";
import request from "supertest";
import { removeDir, startTestService, TestService } from "./helpers";

/** Routes that answer without a bearer token, on purpose: liveness and readiness probes. */
const PUBLIC = new Set(["GET /healthz", "GET /readyz"]);

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** Every route express has registered, read from the app's own router, not from the route specs. */
function registeredRoutes(app: express.Express): { method: string; path: string }[] {
  const stack = (app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
  return stack.flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => ({ method: m.toUpperCase(), path: layer.route!.path })) : []));
}

/** The routes that do not answer 401 (with the bearer challenge and the error envelope) to a request without a valid token. */
async function routesWithoutAuth(app: express.Express, url: string): Promise<string[]> {
  const offenders: string[] = [];
  for (const { method, path } of registeredRoutes(app)) {
    const key = `${method} ${path}`;
    if (PUBLIC.has(key)) continue;
    const concrete = path.replace(/:(\w+)/g, "probe-$1");
    for (const authorization of [undefined, "Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer"]) {
      let req = request(url)[method.toLowerCase() as "get"](concrete);
      if (authorization) req = req.set("Authorization", authorization);
      if (method !== "GET" && method !== "DELETE") req = req.send({});
      const res = await req;
      if (res.status !== 401 || !res.headers["www-authenticate"]?.startsWith("Bearer") || res.body?.error?.code !== "unauthorized") offenders.push(`${key} (${authorization ?? "no header"} → ${res.status})`);
    }
  }
  return offenders;
}

describe("provisioner service: authentication of every route", () => {
  let svc: TestService;
  beforeEach(async () => (svc = await startTestService()));
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  it("answers 401 on every registered route but the health probes when the bearer token is missing, wrong or malformed", async () => {
    const app = svc.server.service.app;
    const routes = registeredRoutes(app);
    expect(routes.length).to.be.greaterThan(8);
    expect(await routesWithoutAuth(app, svc.url)).to.deep.equal([]);
  });

  it("flags a route registered without authentication (the walk is not vacuous)", async () => {
    const app = svc.server.service.app;
    app.get("/v1/unguarded", (_req, res) => {
      res.json({ leaked: true });
    });
    expect(await routesWithoutAuth(app, svc.url)).to.include.members(["GET /v1/unguarded (no header → 404)"]);
  });

  it("keeps the public probes free of anything but health", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await request(svc.url).get(path);
      expect([200, 503]).to.include(res.status);
      expect(Object.keys(res.body).sort()).to.satisfy((keys: string[]) => keys.every((k) => ["status", "ready", "checks"].includes(k)));
    }
  });
});
