import { z } from "zod";

export const EventsQuerySchema = z
  .object({
    lastEventId: z.string().regex(/^\d{1,15}$/, "must be an event sequence number").optional().describe("Replay events after this sequence (same as the Last-Event-ID header)."),
  })
  .strict();

/** The `data:` of one SSE message (`id:` is `sequence`, `event:` is `type`). */
export const OperationEventSchema = z
  .object({
    sequence: z.number().int().min(1),
    timestamp: z.string(),
    operationId: z.string(),
    type: z.enum([
      "operation-queued",
      "operation-started",
      "cleanup-started",
      "cleanup-finished",
      "cancel-requested",
      "resource-pre",
      "resource-outputs",
      "resource-failed",
      "diagnostic",
      "output",
      "summary",
      "cancel",
      "operation-finished",
    ]),
  })
  .passthrough()
  .meta({ id: "OperationEvent" });
