import { z } from "zod";

export const ErrorIssueSchema = z.object({
  code: z.string(),
  path: z.array(z.union([z.string(), z.number()])),
  /** The path as `body.options.vpcCidr`. */
  field: z.string(),
  processorId: z.string().optional(),
  message: z.string(),
});

/** Every 4xx and 5xx body. */
export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(ErrorIssueSchema).optional(),
      /** For 409: the operation or execution holding the node. */
      holderId: z.string().optional(),
      requestId: z.string(),
    }),
  })
  .meta({ id: "ErrorResponse" });
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export const IdParamsSchema = z.object({ id: z.string().min(1).max(128) });
