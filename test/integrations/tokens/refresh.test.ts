import { expect } from "chai";
import { isComputeNodeError, TokenRefreshError } from "../../../lib/errors";
import { keepFresh, tokenExpiresAt } from "../../../lib/integrations/tokens/refresh";
import { jwt } from "./helpers";


const T0 = new Date("2026-03-01T10:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const exp = (minutes: number) => Math.floor(at(minutes).getTime() / 1000);

describe("keepFresh (session token refresh)", () => {
  it("hands over a session token with more than 15 minutes left as it is, without calling Cognito", async () => {
    let calls = 0;
    const tokens = { sessionToken: jwt({ exp: exp(60), token_use: "access" }), refreshToken: "r1" };
    const out = await keepFresh(tokens, { now: () => at(44), refresh: async () => (calls++, { accessToken: "x" }) });
    expect(out).to.deep.equal({ tokens, refreshed: false });
    expect(calls).to.equal(0);
  });

  it("refreshes a session token that expires within 15 minutes, keeping the refresh token unless Cognito rotated it", async () => {
    const fresh = jwt({ exp: exp(120), token_use: "access" });
    const seen: string[] = [];
    const out = await keepFresh({ sessionToken: jwt({ exp: exp(60), token_use: "access" }), refreshToken: "r1" }, { now: () => at(46), refresh: async (r) => (seen.push(r), { accessToken: fresh, idToken: "id" }) });
    expect(seen).to.deep.equal(["r1"]);
    expect(out).to.deep.equal({ tokens: { sessionToken: fresh, refreshToken: "r1" }, refreshed: true });
    const rotated = await keepFresh({ sessionToken: jwt({ exp: exp(0) }), refreshToken: "r1" }, { now: () => at(5), refresh: async () => ({ accessToken: fresh, refreshToken: "r2" }) });
    expect(rotated.tokens.refreshToken).to.equal("r2");
  });

  it("replaces an id token with an id token, as the platform handed it", async () => {
    const out = await keepFresh({ sessionToken: jwt({ exp: exp(1), token_use: "id" }), refreshToken: "r" }, { now: () => at(0), refresh: async () => ({ accessToken: "access", idToken: "new-id" }) });
    expect(out.tokens.sessionToken).to.equal("new-id");
  });

  it("fails with TokenRefreshFailed, naming no token, when the token has expired and Cognito refuses", async () => {
    const sessionToken = jwt({ exp: exp(-5) });
    const err = await keepFresh({ sessionToken, refreshToken: "secret-refresh" }, { now: () => at(0), refresh: async () => Promise.reject(Object.assign(new Error("Refresh Token has expired"), { name: "NotAuthorizedException" })) }).then(
      () => undefined,
      (e: unknown) => e as TokenRefreshError,
    );
    expect(err).to.be.instanceOf(TokenRefreshError);
    expect(isComputeNodeError(err)).to.equal(true);
    expect(err!.name).to.equal("TokenRefreshFailed");
    expect(err!.message).to.contain("NotAuthorizedException").and.not.contain("secret-refresh").and.not.contain(sessionToken);
  });

  it("hands over a still-valid token with a warning when a due refresh fails", async () => {
    const tokens = { sessionToken: jwt({ exp: exp(10) }), refreshToken: "r" };
    const out = await keepFresh(tokens, { now: () => at(0), refresh: async () => Promise.reject(Object.assign(new Error("x"), { name: "TooManyRequestsException" })) });
    expect(out.tokens).to.deep.equal(tokens);
    expect(out.warning).to.contain("TooManyRequestsException");
  });

  it("leaves opaque tokens and nodes without an app client alone", async () => {
    expect(tokenExpiresAt("not-a-jwt")).to.equal(undefined);
    const opaque = { sessionToken: "opaque", refreshToken: "r" };
    expect((await keepFresh(opaque, { now: () => at(0), refresh: async () => ({ accessToken: "x" }) })).refreshed).to.equal(false);
    const expiring = { sessionToken: jwt({ exp: exp(1) }), refreshToken: "r" };
    expect((await keepFresh(expiring, { now: () => at(0) })).tokens).to.deep.equal(expiring);
  });
});
