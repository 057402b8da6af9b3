import { randomUUID } from "node:crypto";
import express, { NextFunction, Request, Response } from "express";
import { z } from "zod";
import { zodIssues } from "../lib/model/validate";
import { keyHintErrorMap } from "../lib/model/suggest";
import { ValidationError, NotFoundError } from "../lib/errors";
import { ExecutionService } from "../lib/provision/execution-service";
import { IdempotencyGuard } from "../lib/provision/idempotency";
import { NodeService } from "../lib/provision/node-service";
import { OperationManager } from "../lib/provision/operation-manager";
import { AuthConfig, bearerAuth } from "./auth";
import { BodyTooDeepError, jsonDepthExceeds, MethodNotAllowedError, toHttpError, UnsupportedMediaTypeError } from "./http-errors";
import { errorFields, Logger } from "./logger";
import { buildOpenApiDocument } from "./openapi";
import { expressPath, RouteSpec } from "./route";
import { executionRoutes } from "./routes/executions";
import { healthRoutes, ReadinessCheck } from "./routes/health";
import { nodeRoutes } from "./routes/nodes";
import { operationRoutes } from "./routes/operations";
import { costRoutes, CostRouteDeps } from "./routes/cost";
import { errorResponses } from "./routes/responses";

export interface AppDeps {
  nodes: NodeService;
  executions: ExecutionService;
  manager: OperationManager;
  idempotency: IdempotencyGuard;
  auth: AuthConfig;
  logger: Logger;
  readiness: ReadinessCheck;
  /** Retry-After of accepted operations, in seconds. @default 2 */
  retryAfterSeconds?: number;
  /** @default 15000 */
  sseHeartbeatMs?: number;
  /** Largest accepted JSON body. @default "1mb" */
  bodyLimit?: string;
  /** The cost routes' estimators. @default the real ones (the node is synthesized in a child process) */
  costs?: CostRouteDeps;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Deepest JSON nesting accepted in a body: a workflow with free-form processor params needs far fewer. */
export const MAX_BODY_DEPTH = 64;

declare module "express-serve-static-core" {
  interface Request {
    requestId: string;
  }
}

/** Every route of the API, with its contract; the OpenAPI document is built from this list. */
export function apiRoutes(deps: AppDeps): RouteSpec[] {
  const routes = [
    ...healthRoutes({ readiness: deps.readiness }),
    ...nodeRoutes({ nodes: deps.nodes, manager: deps.manager, idempotency: deps.idempotency, retryAfterSeconds: deps.retryAfterSeconds ?? 2 }),
    ...operationRoutes({ manager: deps.manager, sseHeartbeatMs: deps.sseHeartbeatMs }),
    ...executionRoutes({ executions: deps.executions, sseHeartbeatMs: deps.sseHeartbeatMs }),
    ...costRoutes(deps.costs),
  ];
  const document = () => buildOpenApiDocument([...routes, openapiRoute(() => ({}))], { title: "compute-node provisioner", version: "1.0.0", description: "Provision compute nodes (one Pulumi stack each) and run workflows on them." });
  return [...routes, openapiRoute(document)];
}

function openapiRoute(document: () => unknown): RouteSpec {
  return {
    method: "get",
    path: "/openapi.json",
    operationId: "openapi",
    summary: "This API's OpenAPI 3.1 document.",
    responses: { 200: { description: "The OpenAPI document.", schema: z.record(z.string(), z.unknown()) }, ...errorResponses(401) },
    handler: async () => ({ status: 200, body: document() }),
  };
}

/** Builds the express app; listening is server.ts's job. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(requestContext(deps.logger));
  const auth = bearerAuth(deps.auth);
  // Depth is checked on the raw bytes, before parsing: a deeply nested body would otherwise reach
  // zod's recursive validation (a stack overflow, a 500) after parts of a request were acted on.
  const json = express.json({
    limit: deps.bodyLimit ?? "1mb",
    verify: (_req, _res, raw) => {
      if (jsonDepthExceeds(raw, MAX_BODY_DEPTH)) throw new BodyTooDeepError(MAX_BODY_DEPTH);
    },
  });
  const routes = apiRoutes(deps);

  for (const route of routes) {
    const chain = [...(route.auth === false ? [] : [auth]), ...(route.body ? [json] : [])];
    app[route.method](expressPath(route.path), ...chain, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const params = parsePart(route.params, req.params, "params");
        const query = parsePart(route.query, req.query ?? {}, "query");
        if (route.body && req.body === undefined && hasBody(req) && !req.is("application/json")) throw new UnsupportedMediaTypeError();
        const body = route.body ? parsePart(route.body, req.body, "body") : undefined;
        const result = await route.handler({ params, query, body, req, res });
        if (!result) return;
        res.status(result.status).set(result.headers ?? {});
        if (result.body === undefined) res.end();
        else res.json(result.body);
      } catch (err) {
        next(err);
      }
    });
  }

  app.use((req: Request, _res: Response, next: NextFunction) => {
    const allowed = routes.filter((r) => pathMatches(r.path, req.path)).map((r) => r.method.toUpperCase());
    next(allowed.length ? new MethodNotAllowedError(allowed) : new NotFoundError(`no route ${req.method} ${req.path}`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const http = toHttpError(err, req.requestId);
    if (http.internal) deps.logger.error("request failed", { requestId: req.requestId, method: req.method, path: req.path, ...errorFields(err) });
    if (res.headersSent) return res.end();
    res.status(http.status).set(http.headers).json(http.body);
  });
  return app;
}

const hasBody = (req: Request) => req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return {} as T;
  const parsed = schema.safeParse(value, { error: keyHintErrorMap });
  if (!parsed.success) throw new ValidationError(zodIssues(parsed.error, [where]), { cause: parsed.error });
  return parsed.data;
}

function pathMatches(template: string, path: string): boolean {
  const pattern = new RegExp("^" + template.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")).join("[^/]+") + "/?$");
  return pattern.test(path);
}

/** Request id (kept from X-Request-Id when it is safe) and one log line per request: no headers, no body, no query. */
function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get("X-Request-Id");
    req.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.set("X-Request-Id", req.requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () =>
      logger.info("request", {
        requestId: req.requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        durationMs: Number((process.hrtime.bigint() - started) / 1000000n),
      }),
    );
    next();
  };
}
