import { z } from "zod";
import { ValidationError } from "../../lib/errors";
import { isTerminalExecutionStatus } from "../../lib/model/execution-record";
import { ExecutionEvent } from "../../lib/provision/execution-events";
import { ExecutionService } from "../../lib/provision/execution-service";
import { defineRoute, RouteSpec } from "../route";
import { IdParamsSchema } from "../schemas/common";
import {
  ExecutionEventSchema,
  ExecutionEventsQuerySchema,
  ExecutionPageSchema,
  ExecutionSchema,
  ExecutionStartedSchema,
  ListExecutionsQuerySchema,
  LogsQuerySchema,
  ProcessorParamsSchema,
  PutWorkflowBodySchema,
  PutWorkflowResponseSchema,
  StartExecutionBodySchema,
  WorkflowDefinitionSchema,
  WorkflowListSchema,
  WorkflowParamsSchema,
} from "../schemas/executions";
import { errorResponses, idempotencyKeyOf } from "./responses";

export interface ExecutionRouteDeps {
  executions: ExecutionService;
  /** Comment lines keep proxies from closing an idle stream. @default 15000 */
  sseHeartbeatMs?: number;
}

const NodeParamsSchema = z.object({ id: WorkflowParamsSchema.shape.id });

export function executionRoutes(deps: ExecutionRouteDeps): RouteSpec[] {
  const heartbeatMs = deps.sseHeartbeatMs ?? 15000;
  return [
    defineRoute<z.output<typeof WorkflowParamsSchema>, Record<string, never>, z.output<typeof StartExecutionBodySchema>>({
      method: "post",
      path: "/v1/nodes/{id}/workflows/{name}/executions",
      operationId: "startExecution",
      summary: "Compile a workflow (the body's, or the registered definition), register it on the node, and start an execution.",
      params: WorkflowParamsSchema,
      body: StartExecutionBodySchema,
      headers: [
        {
          name: "Idempotency-Key",
          description: "Makes the start safe to retry: the same key with the same request answers the first start's execution (200) and starts nothing; with a different request, 422.",
          pattern: "^[!-~]{1,255}$",
        },
      ],
      responses: {
        202: {
          description: "Started; poll the execution or stream its events.",
          schema: ExecutionStartedSchema,
          headers: { Location: { description: "URL of the execution record.", schema: { type: "string" } } },
        },
        200: {
          description: "Idempotent replay: the execution the first request with this Idempotency-Key started.",
          schema: ExecutionStartedSchema,
          headers: { Location: { description: "URL of the execution record.", schema: { type: "string" } } },
        },
        ...errorResponses(400, 401, 404, 409, 413, 415, 422, 503),
      },
      handler: async ({ params, body, req }) => {
        const idempotencyKey = idempotencyKeyOf(req.get("Idempotency-Key"));
        const { replayed, ...started } = await deps.executions.start({ nodeId: params.id, workflowName: params.name, ...body, ...(idempotencyKey ? { idempotencyKey } : {}) });
        return { status: replayed ? 200 : 202, body: started, headers: { Location: `/v1/executions/${encodeURIComponent(started.executionId)}` } };
      },
    }),
    defineRoute<z.output<typeof NodeParamsSchema>, z.output<typeof ListExecutionsQuerySchema>>({
      method: "get",
      path: "/v1/nodes/{id}/executions",
      operationId: "listExecutions",
      summary: "The node's executions, newest first, a page at a time.",
      params: NodeParamsSchema,
      query: ListExecutionsQuerySchema,
      responses: { 200: { description: "One page; `nextCursor` fetches the next.", schema: ExecutionPageSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params, query }) => ({
        status: 200,
        body: await deps.executions.list({ nodeId: params.id, status: query.status, workflow: query.workflow, cursor: query.cursor, ...(query.limit !== undefined ? { limit: Number(query.limit) } : {}) }),
      }),
    }),
    defineRoute<z.output<typeof IdParamsSchema>>({
      method: "get",
      path: "/v1/executions/{id}",
      operationId: "getExecution",
      summary: "An execution record with per-processor status (no server file paths).",
      params: IdParamsSchema,
      responses: { 200: { description: "The execution record.", schema: ExecutionSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params }) => ({ status: 200, body: await deps.executions.get(params.id) }),
    }),
    defineRoute<z.output<typeof IdParamsSchema>>({
      method: "post",
      path: "/v1/executions/{id}/cancel",
      operationId: "cancelExecution",
      summary: "Cancel a running execution: it goes CANCELING, then CANCELED once its processors are stopped. Idempotent; 409 on one that finished otherwise.",
      params: IdParamsSchema,
      responses: {
        202: { description: "Cancel requested (or already done): the record as it is now.", schema: ExecutionSchema, headers: { Location: { description: "URL of the execution record.", schema: { type: "string" } } } },
        ...errorResponses(400, 401, 404, 409, 503),
      },
      handler: async ({ params }) => ({ status: 202, body: await deps.executions.cancel(params.id), headers: { Location: `/v1/executions/${encodeURIComponent(params.id)}` } }),
    }),
    defineRoute<z.output<typeof IdParamsSchema>, z.output<typeof ExecutionEventsQuerySchema>>({
      method: "get",
      path: "/v1/executions/{id}/events",
      operationId: "streamExecutionEvents",
      summary: "Run and processor status changes as Server-Sent Events, in order; ends with the terminal status.",
      params: IdParamsSchema,
      query: ExecutionEventsQuerySchema,
      headers: [{ name: "Last-Event-ID", description: "Resume after this event id (sent by EventSource on reconnect).", pattern: "^[0-9]{1,15}$" }],
      responses: {
        200: {
          description: "`text/event-stream`: each message has `id:` (the event's sequence in its execution, from 1), `event:` (`execution-status` or `processor-status`) and `data:` (the event as JSON).",
          contentType: "text/event-stream",
          schema: ExecutionEventSchema,
        },
        204: { description: "The execution finished and every event was already delivered: nothing to stream." },
        ...errorResponses(400, 401, 404),
      },
      handler: async ({ params, query, req, res }) => {
        const after = afterSequence(req.get("Last-Event-ID"), query.lastEventId);
        await deps.executions.get(params.id);
        const pending: ExecutionEvent[] = [];
        let open = false;
        let finished = false;
        const write = (event: ExecutionEvent) => {
          if (finished) return;
          res.write(`id: ${event.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
          if (event.type === "execution-status" && isTerminalExecutionStatus(event.status)) {
            finished = true;
            res.end();
          }
        };
        const { backlog, live, unsubscribe } = await deps.executions.events.watch(params.id, after, (event) => (open ? write(event) : pending.push(event)));
        if (!backlog.length && !pending.length && !live) return { status: 204 };
        res.status(200).set({ "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
        res.flushHeaders();
        open = true;
        for (const event of [...backlog, ...pending.splice(0)]) write(event);
        if (!finished && !live) res.end();
        if (finished || !live) return unsubscribe();
        const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), heartbeatMs);
        const stop = () => {
          clearInterval(heartbeat);
          unsubscribe();
        };
        res.on("close", stop);
        res.on("finish", stop);
      },
    }),
    defineRoute<z.output<typeof ProcessorParamsSchema>, z.output<typeof LogsQuerySchema>>({
      method: "get",
      path: "/v1/executions/{id}/processors/{pid}/logs",
      operationId: "getProcessorLogs",
      summary: "A processor's log as text; with follow=true the response stays open until the processor ends.",
      params: ProcessorParamsSchema,
      query: LogsQuerySchema,
      responses: {
        200: { description: "The log (text/plain; UTF-8).", contentType: "text/plain", schema: z.string() },
        ...errorResponses(400, 401, 404, 503),
      },
      handler: async ({ params, query, res }) => {
        const abort = new AbortController();
        const chunks = await deps.executions.logs(params.id, params.pid, { follow: query.follow === "true", signal: abort.signal });
        const iterator = chunks[Symbol.asyncIterator]();
        // The first chunk before the headers: a 404 or 503 from the runtime still gets its JSON error.
        const first = await iterator.next();
        res.status(200).set({ "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" });
        res.on("close", () => abort.abort());
        if (query.follow === "true") res.flushHeaders();
        if (!first.done) res.write(first.value);
        for (let next = first.done ? first : await iterator.next(); !next.done; next = await iterator.next()) {
          if (abort.signal.aborted) break;
          res.write(next.value);
        }
        res.end();
      },
    }),
    defineRoute<z.output<typeof WorkflowParamsSchema>, Record<string, never>, z.output<typeof PutWorkflowBodySchema>>({
      method: "put",
      path: "/v1/nodes/{id}/workflows/{name}",
      operationId: "putWorkflow",
      summary: "Register a workflow definition: validate, register its processors, create or update its state machine, store it.",
      params: WorkflowParamsSchema,
      body: PutWorkflowBodySchema,
      responses: {
        201: { description: "Registered for the first time.", schema: PutWorkflowResponseSchema },
        200: { description: "Updated, or already so (`changed: false`).", schema: PutWorkflowResponseSchema },
        ...errorResponses(400, 401, 404, 409, 413, 415, 503),
      },
      handler: async ({ params, body }) => {
        const { definition, created, changed } = await deps.executions.putWorkflow({ nodeId: params.id, name: params.name, workflow: body.workflow, processors: body.processors });
        return { status: created ? 201 : 200, body: { definition, changed }, headers: { Location: `/v1/nodes/${params.id}/workflows/${encodeURIComponent(params.name)}` } };
      },
    }),
    defineRoute<z.output<typeof WorkflowParamsSchema>>({
      method: "get",
      path: "/v1/nodes/{id}/workflows/{name}",
      operationId: "getWorkflow",
      summary: "A registered workflow definition with its processor registrations.",
      params: WorkflowParamsSchema,
      responses: { 200: { description: "The definition.", schema: WorkflowDefinitionSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params }) => ({ status: 200, body: await deps.executions.getWorkflow(params.id, params.name) }),
    }),
    defineRoute<z.output<typeof NodeParamsSchema>>({
      method: "get",
      path: "/v1/nodes/{id}/workflows",
      operationId: "listWorkflows",
      summary: "The workflow definitions registered on the node, by name.",
      params: NodeParamsSchema,
      responses: { 200: { description: "Every definition.", schema: WorkflowListSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params }) => ({ status: 200, body: { workflows: await deps.executions.listWorkflows(params.id) } }),
    }),
    defineRoute<z.output<typeof WorkflowParamsSchema>>({
      method: "delete",
      path: "/v1/nodes/{id}/workflows/{name}",
      operationId: "deleteWorkflow",
      summary: "Delete a workflow definition: its state machines and the functions and task definitions only it used. 409 while one of its executions runs.",
      params: WorkflowParamsSchema,
      responses: { 204: { description: "Deleted." }, ...errorResponses(400, 401, 404, 409, 503) },
      handler: async ({ params }) => {
        await deps.executions.deleteWorkflow(params.id, params.name);
        return { status: 204 };
      },
    }),
  ];
}

function afterSequence(header: string | undefined, query: string | undefined): number {
  const raw = header ?? query;
  if (raw === undefined) return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError([{ code: "invalid_last_event_id", path: ["headers", "Last-Event-ID"], message: "must be an event id (a sequence number) this stream sent" }]);
  return Number(raw);
}
