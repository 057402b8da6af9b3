import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { UnauthorizedError } from "./http-errors";

export type AuthConfig = { token: string } | { disabled: true };

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Constant-time: both sides are hashed to equal length first, so neither length nor prefix leaks. */
export function tokensMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Bearer-token check; fails closed on a missing, malformed or wrong header. */
export function bearerAuth(config: AuthConfig): RequestHandler {
  if ("disabled" in config) return (_req, _res, next) => next();
  if (!config.token) throw new Error("internal: bearer auth configured with an empty token");
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header) return next(new UnauthorizedError("missing Authorization header: send `Authorization: Bearer <token>`"));
    const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
    if (!match) return next(new UnauthorizedError("the Authorization header must be `Bearer <token>`"));
    if (!tokensMatch(match[1], config.token)) return next(new UnauthorizedError("the bearer token is not valid"));
    next();
  };
}
