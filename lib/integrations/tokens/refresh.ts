import { TokenRefreshError } from "../../errors";
import { ExecutionTokens } from "./contract";

/** A processor starting with less than this left on its session token gets a refreshed one. */
export const REFRESH_MARGIN_SECONDS = 15 * 60;

/** What a refresh yields: Cognito's new access and id tokens, and a new refresh token when the app client rotates them. */
export interface RefreshedTokens {
  accessToken?: string;
  idToken?: string;
  refreshToken?: string;
}

/** Exchanges a refresh token for new tokens (Cognito `InitiateAuth` with `REFRESH_TOKEN_AUTH`). */
export type RefreshSessionToken = (refreshToken: string) => Promise<RefreshedTokens>;

export interface KeepFreshOptions {
  now: () => Date;
  /** Absent when the node has no Cognito app client: tokens are handed over as they are. */
  refresh?: RefreshSessionToken;
  /** @default REFRESH_MARGIN_SECONDS */
  marginSeconds?: number;
}

export interface KeepFreshResult {
  tokens: ExecutionTokens;
  refreshed: boolean;
  /** Set when a refresh was due but failed while the old token was still valid: it is handed over anyway. */
  warning?: string;
}

interface JwtClaims {
  exp?: number;
  token_use?: string;
}

/** The claims of a JWT, or undefined for anything else (an opaque token has nothing to read). Never verified: only its expiry is used, to decide whether to refresh. */
export function jwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as unknown;
    return typeof claims === "object" && claims !== null ? (claims as JwtClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** When a JWT expires (`exp`), or undefined when the token carries no readable expiry. */
export function tokenExpiresAt(token: string): Date | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
}

/**
 * The tokens to hand to a processor now: as stored, unless the session token expires within the
 * margin and a refresher is configured, then refreshed. The new session token is of the same kind
 * as the old one (`token_use`: Cognito access or id token). A failed refresh while the old token
 * is still valid hands the old one over with a warning; once it has expired, it fails with
 * TokenRefreshFailed. Messages never hold a token.
 */
export async function keepFresh(tokens: ExecutionTokens, options: KeepFreshOptions): Promise<KeepFreshResult> {
  if (!options.refresh || !tokens.refreshToken) return { tokens, refreshed: false };
  const expiresAt = tokenExpiresAt(tokens.sessionToken);
  if (!expiresAt) return { tokens, refreshed: false };
  const now = options.now();
  const margin = (options.marginSeconds ?? REFRESH_MARGIN_SECONDS) * 1000;
  if (expiresAt.getTime() - now.getTime() > margin) return { tokens, refreshed: false };
  const kind = jwtClaims(tokens.sessionToken)?.token_use === "id" ? "idToken" : "accessToken";
  let fresh: RefreshedTokens;
  try {
    fresh = await options.refresh(tokens.refreshToken);
  } catch (err) {
    const why = (err as { name?: string }).name ?? "Error";
    if (expiresAt.getTime() > now.getTime())
      return { tokens, refreshed: false, warning: `the session token expires at ${expiresAt.toISOString()} and could not be refreshed (${why}); handing over the current one` };
    throw new TokenRefreshError(`the session token expired at ${expiresAt.toISOString()} and Cognito refused to refresh it (${why}); start the execution again with fresh tokens`, { cause: err });
  }
  const sessionToken = fresh[kind];
  if (!sessionToken) throw new TokenRefreshError(`Cognito's refresh answered without ${kind === "idToken" ? "an id" : "an access"} token`);
  return { tokens: { sessionToken, refreshToken: fresh.refreshToken ?? tokens.refreshToken }, refreshed: true };
}
