import { z } from "zod";
import { IdempotencyGuard, requestFingerprint } from "../../lib/provision/idempotency";
import { NodeOperationResult, NodeService } from "../../lib/provision/node-service";
import { OperationManager } from "../../lib/provision/operation-manager";
import { OperationRecord } from "../../lib/provision/records";
import { defineRoute, HandlerContext, RouteSpec } from "../route";
import { IdParamsSchema } from "../schemas/common";
import { CreateNodeBodySchema, DestroyQuerySchema, NodeDetailSchema, NodeListSchema, NodeOperationResponseSchema, NodePreviewSchema, PreviewNodeBodySchema, UpdateNodeBodySchema } from "../schemas/nodes";
import { errorResponses, idempotencyKeyOf, OPERATION_HEADERS, operationAccepted } from "./responses";

export interface NodeRouteDeps {
  nodes: NodeService;
  manager: OperationManager;
  idempotency: IdempotencyGuard;
  retryAfterSeconds: number;
}

const IDEMPOTENCY_HEADER = {
  name: "Idempotency-Key",
  description: "Makes the call safe to retry: the same key with the same request answers the first call's operation; with a different request, 422.",
  pattern: "^[!-~]{1,255}$",
};

const accepted = {
  202: { description: "Accepted: the operation is queued or running.", schema: NodeOperationResponseSchema, headers: OPERATION_HEADERS },
  200: { description: "Idempotent replay of a call whose operation already finished.", schema: NodeOperationResponseSchema, headers: OPERATION_HEADERS },
};

export function nodeRoutes(deps: NodeRouteDeps): RouteSpec[] {
  /** Runs a mutating call once per Idempotency-Key and answers with its operation and the node. */
  const mutation = async <P, Q, B>(ctx: HandlerContext<P, Q, B>, nodeId: string, run: () => Promise<NodeOperationResult>) => {
    const key = idempotencyKeyOf(ctx.req.get("Idempotency-Key"));
    let operation: OperationRecord;
    if (key) {
      const fingerprint = requestFingerprint(ctx.req.method, ctx.req.path, { body: ctx.body ?? null, query: ctx.query ?? {} });
      operation = (await deps.idempotency.run(key, fingerprint, async () => (await run()).operation)).operation;
    } else operation = (await run()).operation;
    const node = await deps.nodes.find(nodeId);
    return operationAccepted(operation, { operation, node }, deps.retryAfterSeconds);
  };

  return [
    defineRoute<Record<string, never>, Record<string, never>, z.output<typeof CreateNodeBodySchema>>({
      method: "post",
      path: "/v1/nodes",
      operationId: "createNode",
      summary: "Create a compute node: provisions its stack asynchronously.",
      body: CreateNodeBodySchema,
      headers: [IDEMPOTENCY_HEADER],
      responses: { ...accepted, ...errorResponses(400, 401, 409, 413, 415, 422, 503) },
      handler: (ctx) => mutation(ctx, ctx.body.id, () => deps.nodes.create(ctx.body)),
    }),
    defineRoute({
      method: "get",
      path: "/v1/nodes",
      operationId: "listNodes",
      summary: "List compute nodes (destroyed ones are gone).",
      responses: { 200: { description: "Every node the service knows.", schema: NodeListSchema }, ...errorResponses(401) },
      handler: async () => ({ status: 200, body: { nodes: await deps.nodes.list() } }),
    }),
    defineRoute<z.output<typeof IdParamsSchema>>({
      method: "get",
      path: "/v1/nodes/{id}",
      operationId: "getNode",
      summary: "A compute node: mode, status, outputs without secrets, last operation. 404 once destroyed.",
      params: IdParamsSchema,
      responses: { 200: { description: "The node, with its last operation.", schema: NodeDetailSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params }) => {
        const node = await deps.nodes.get(params.id);
        const lastOperation = node.lastOperationId ? await deps.manager.get(node.lastOperationId).catch(() => undefined) : undefined;
        return { status: 200, body: { ...node, ...(lastOperation ? { lastOperation } : {}) } };
      },
    }),
    defineRoute<z.output<typeof IdParamsSchema>, Record<string, never>, z.output<typeof UpdateNodeBodySchema>>({
      method: "patch",
      path: "/v1/nodes/{id}",
      operationId: "updateNode",
      summary: "Change a node's mode or options: updates its stack asynchronously.",
      params: IdParamsSchema,
      body: UpdateNodeBodySchema,
      headers: [IDEMPOTENCY_HEADER],
      responses: { ...accepted, ...errorResponses(400, 401, 404, 409, 413, 415, 422, 503) },
      handler: (ctx) => mutation(ctx, ctx.params.id, () => deps.nodes.update(ctx.params.id, ctx.body)),
    }),
    defineRoute<z.output<typeof IdParamsSchema>, Record<string, never>, z.output<typeof PreviewNodeBodySchema>>({
      method: "post",
      path: "/v1/nodes/{id}/preview",
      operationId: "previewNode",
      summary: "Plan a change (the body a PATCH would send, or nothing for the stored spec) with the engine's preview; changes nothing.",
      params: IdParamsSchema,
      body: PreviewNodeBodySchema,
      bodyRequired: false,
      responses: { 200: { description: "The planned resource changes.", schema: NodePreviewSchema }, ...errorResponses(400, 401, 404, 409, 413, 415, 503) },
      handler: async ({ params, body }) => {
        const { spec, resourceChanges, steps } = await deps.nodes.preview(params.id, body ?? {});
        return { status: 200, body: { nodeId: spec.id, mode: spec.mode, resourceChanges, ...(steps ? { steps } : {}) } };
      },
    }),
    defineRoute<z.output<typeof IdParamsSchema>, z.output<typeof DestroyQuerySchema>>({
      method: "delete",
      path: "/v1/nodes/{id}",
      operationId: "destroyNode",
      summary: "Destroy a node: runs the per-node cleanup, then destroys its stack. Refused (409) while an execution runs unless force=true.",
      params: IdParamsSchema,
      query: DestroyQuerySchema,
      headers: [IDEMPOTENCY_HEADER],
      responses: { ...accepted, ...errorResponses(400, 401, 404, 409, 422, 503) },
      handler: (ctx) => mutation(ctx, ctx.params.id, () => deps.nodes.destroy(ctx.params.id, { force: ctx.query.force === "true" })),
    }),
  ];
}
