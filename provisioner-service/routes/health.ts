import { defineRoute, RouteSpec } from "../route";
import { HealthSchema, ReadinessSchema } from "../schemas/health";
import { errorResponses } from "./responses";

export type ReadinessCheck = () => Promise<{ ready: boolean; checks: Record<string, string> }>;

export function healthRoutes(deps: { readiness: ReadinessCheck }): RouteSpec[] {
  return [
    defineRoute({
      method: "get",
      path: "/healthz",
      operationId: "health",
      summary: "Liveness: the process answers.",
      auth: false,
      responses: { 200: { description: "Alive.", schema: HealthSchema }, ...errorResponses() },
      handler: async () => ({ status: 200, body: { status: "ok" } }),
    }),
    defineRoute({
      method: "get",
      path: "/readyz",
      operationId: "ready",
      summary: "Readiness: restart recovery is done and the state store answers. A missing Pulumi CLI is reported but does not make the service unready (node calls answer 503).",
      auth: false,
      responses: {
        200: { description: "Ready.", schema: ReadinessSchema },
        503: { description: "Not ready yet (recovering) or the state store fails.", schema: ReadinessSchema },
        ...errorResponses(),
      },
      handler: async () => {
        const result = await deps.readiness();
        return { status: result.ready ? 200 : 503, body: result };
      },
    }),
  ];
}
