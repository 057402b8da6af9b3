import { z } from "zod";
import { ValidationError } from "../../lib/errors";
import { OperationEvent } from "../../lib/provision/events";
import { OperationManager } from "../../lib/provision/operation-manager";
import { defineRoute, RouteSpec } from "../route";
import { IdParamsSchema } from "../schemas/common";
import { OperationSchema } from "../schemas/nodes";
import { EventsQuerySchema, OperationEventSchema } from "../schemas/operations";
import { errorResponses } from "./responses";

export interface OperationRouteDeps {
  manager: OperationManager;
  /** Comment lines keep proxies from closing an idle stream. @default 15000 */
  sseHeartbeatMs?: number;
}

export function operationRoutes(deps: OperationRouteDeps): RouteSpec[] {
  return [
    defineRoute<z.output<typeof IdParamsSchema>>({
      method: "get",
      path: "/v1/operations/{id}",
      operationId: "getOperation",
      summary: "An operation: state, timestamps, summary, error.",
      params: IdParamsSchema,
      responses: { 200: { description: "The operation.", schema: OperationSchema }, ...errorResponses(400, 401, 404) },
      handler: async ({ params }) => ({ status: 200, body: await deps.manager.get(params.id) }),
    }),
    defineRoute<z.output<typeof IdParamsSchema>>({
      method: "post",
      path: "/v1/operations/{id}/cancel",
      operationId: "cancelOperation",
      summary: "Cancel an operation: a queued one at once, a running one gracefully (it ends `cancelled`, or `succeeded` if it finished first).",
      params: IdParamsSchema,
      responses: {
        202: { description: "Cancellation requested or done; poll the operation.", schema: OperationSchema },
        ...errorResponses(400, 401, 404, 409),
      },
      handler: async ({ params }) => ({ status: 202, body: await deps.manager.cancel(params.id), headers: { Location: `/v1/operations/${params.id}` } }),
    }),
    defineRoute<z.output<typeof IdParamsSchema>, z.output<typeof EventsQuerySchema>>({
      method: "get",
      path: "/v1/operations/{id}/events",
      operationId: "streamOperationEvents",
      summary: "The operation's engine events as Server-Sent Events, live; ends with an `operation-finished` event.",
      params: IdParamsSchema,
      query: EventsQuerySchema,
      headers: [{ name: "Last-Event-ID", description: "Resume after this event sequence (sent by EventSource on reconnect).", pattern: "^[0-9]{1,15}$" }],
      responses: {
        200: {
          description: "`text/event-stream`: each message has `id:` (the event sequence), `event:` (its type) and `data:` (an OperationEvent as JSON).",
          contentType: "text/event-stream",
          schema: OperationEventSchema,
        },
        204: { description: "The operation finished and every event was already delivered: nothing to stream." },
        ...errorResponses(400, 401, 404),
      },
      handler: async ({ params, query, req, res }) => {
        const after = afterSequence(req.get("Last-Event-ID"), query.lastEventId);
        const backlog: OperationEvent[] = [];
        let open = false;
        let finished = false;
        const write = (event: OperationEvent) => {
          res.write(`id: ${event.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
          if (event.type === "operation-finished") {
            finished = true;
            res.end();
          }
        };
        const { live, unsubscribe } = await deps.manager.watch(params.id, after, (event) => {
          if (finished) return;
          if (open) write(event);
          else backlog.push(event);
        });
        // Live means every later event reaches the listener; otherwise the replay was everything.
        if (!backlog.length && !live) {
          unsubscribe();
          return { status: 204 };
        }
        res.status(200).set({ "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
        res.flushHeaders();
        open = true;
        for (const event of backlog.splice(0)) if (!finished) write(event);
        if (!finished && !live) res.end();
        if (finished || !live) return unsubscribe();
        const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), deps.sseHeartbeatMs ?? 15000);
        const stop = () => {
          clearInterval(heartbeat);
          unsubscribe();
        };
        res.on("close", stop);
        res.on("finish", stop);
      },
    }),
  ];
}

function afterSequence(header: string | undefined, query: string | undefined): number {
  const raw = header ?? query;
  if (raw === undefined) return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError([{ code: "invalid_last_event_id", path: ["headers", "Last-Event-ID"], message: "must be an event sequence number" }]);
  return Number(raw);
}
