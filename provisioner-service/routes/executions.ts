import { z } from "zod";
import { ExecutionService } from "../../lib/provision/execution-service";
import { defineRoute, RouteSpec } from "../route";
import { IdParamsSchema } from "../schemas/common";
import { ExecutionSchema, ExecutionStartedSchema, StartExecutionBodySchema, WorkflowParamsSchema } from "../schemas/executions";
import { errorResponses } from "./responses";

export function executionRoutes(deps: { executions: ExecutionService }): RouteSpec[] {
  return [
    defineRoute<z.output<typeof WorkflowParamsSchema>, Record<string, never>, z.output<typeof StartExecutionBodySchema>>({
      method: "post",
      path: "/v1/nodes/{id}/workflows/{name}/executions",
      operationId: "startExecution",
      summary: "Compile a workflow, register it on the node, and start an execution.",
      params: WorkflowParamsSchema,
      body: StartExecutionBodySchema,
      responses: {
        202: {
          description: "Started; poll the execution.",
          schema: ExecutionStartedSchema,
          headers: { Location: { description: "URL of the execution record.", schema: { type: "string" } } },
        },
        ...errorResponses(400, 401, 404, 409, 413, 415, 503),
      },
      handler: async ({ params, body }) => {
        const started = await deps.executions.start({ nodeId: params.id, workflowName: params.name, ...body });
        return { status: 202, body: started, headers: { Location: `/v1/executions/${encodeURIComponent(started.executionId)}` } };
      },
    }),
    defineRoute<z.output<typeof IdParamsSchema>>({
      method: "get",
      path: "/v1/executions/{id}",
      operationId: "getExecution",
      summary: "An execution record with per-processor status.",
      params: IdParamsSchema,
      responses: { 200: { description: "The execution record.", schema: ExecutionSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params }) => ({ status: 200, body: await deps.executions.get(params.id) }),
    }),
  ];
}
