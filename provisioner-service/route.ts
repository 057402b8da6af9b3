import type { Request, Response } from "express";
import { z } from "zod";

/** One documented response of a route. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodTypeAny;
  /** @default "application/json" */
  contentType?: string;
  headers?: Record<string, { description: string; schema: { type: "string" | "integer" } }>;
}

export interface HandlerContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: Request;
  res: Response;
}

/** What a JSON handler answers; SSE handlers write to `res` themselves and return nothing. */
export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A route and its contract in one place: express registers the handler from it and the OpenAPI
 * document is generated from it, so the two cannot drift.
 */
export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI style: `/v1/nodes/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  /** @default true */
  auth?: boolean;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Whether the body may be left out (its schema then accepts undefined). @default true when `body` is set */
  bodyRequired?: boolean;
  /** Header parameters worth documenting (Idempotency-Key, Last-Event-ID). */
  headers?: { name: string; description: string; required?: boolean; pattern?: string }[];
  responses: Record<number, ResponseSpec>;
  handler: (ctx: HandlerContext<P, Q, B>) => Promise<HttpResult | void>;
}

export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}

export const expressPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");
