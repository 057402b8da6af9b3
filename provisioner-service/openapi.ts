import { z } from "zod";
import { RouteSpec } from "./route";

type JsonSchema = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/**
 * The OpenAPI 3.1 document of the routes, generated from the same zod schemas that validate
 * requests (io "input") and describe responses (io "output"), so code and document cannot drift.
 */
export function buildOpenApiDocument(routes: RouteSpec[], info: OpenApiInfo): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const toSchema = (schema: z.ZodTypeAny, io: "input" | "output"): JsonSchema => {
    const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    const name = (id: string) => (io === "input" ? `${id}Input` : id);
    for (const [id, def] of Object.entries(defs)) components[name(id)] = rewriteRefs(def, name);
    const { $schema: _s, $defs: _d, id: _id, ...rest } = json;
    return rewriteRefs(rest, name);
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters: unknown[] = [];
    for (const [location, schema] of [
      ["path", route.params],
      ["query", route.query],
    ] as const) {
      if (!schema) continue;
      const json = toSchema(schema as z.ZodTypeAny, "input");
      const props = (json.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((json.required ?? []) as string[]);
      for (const [name, prop] of Object.entries(props))
        parameters.push({ name, in: location, required: location === "path" || required.has(name), schema: prop, ...(prop.description ? { description: prop.description } : {}) });
    }
    for (const header of route.headers ?? []) parameters.push({ name: header.name, in: "header", required: !!header.required, description: header.description, schema: { type: "string", ...(header.pattern ? { pattern: header.pattern } : {}) } });

    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.schema ? { content: { [spec.contentType ?? "application/json"]: { schema: contentSchema(spec.contentType, toSchema(spec.schema, "output")) } } } : {}),
      };
    }
    paths[route.path] ??= {};
    paths[route.path][route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.auth === false ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: route.bodyRequired ?? true, content: { "application/json": { schema: toSchema(route.body as z.ZodTypeAny, "input") } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info,
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "COMPUTE_NODE_API_TOKEN of the service." } },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}

/** SSE: the schema describes one event (`id`, `event`, `data`), its `data` being JSON of the given schema. */
function contentSchema(contentType: string | undefined, schema: JsonSchema): JsonSchema {
  if (contentType !== "text/event-stream") return schema;
  return {
    type: "object",
    required: ["data"],
    properties: {
      id: { type: "string" },
      event: { type: "string" },
      retry: { type: "integer" },
      data: { type: "string", contentMediaType: "application/json", contentSchema: schema },
    },
  };
}

function rewriteRefs(value: JsonSchema, name: (id: string) => string): JsonSchema {
  return JSON.parse(JSON.stringify(value), (key, v) => (key === "$ref" && typeof v === "string" && v.startsWith("#/$defs/") ? `#/components/schemas/${name(v.slice(8))}` : v));
}
