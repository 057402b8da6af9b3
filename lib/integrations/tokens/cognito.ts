import { CognitoIdentityProviderClient, InitiateAuthCommand } from "@aws-sdk/client-cognito-identity-provider";
import { RefreshSessionToken } from "./refresh";

/** The node's Cognito app client: the user pool's region and the client id (a public client, without a secret). */
export interface CognitoAppClient {
  region: string;
  clientId: string;
}

/**
 * Refreshes through Cognito's `InitiateAuth` with `REFRESH_TOKEN_AUTH`. The call needs no AWS
 * credentials (the refresh token is the credential); an app client with a secret would also need
 * a SECRET_HASH, which the node does not hold.
 */
export function cognitoRefresher(client: Pick<CognitoIdentityProviderClient, "send">, clientId: string): RefreshSessionToken {
  return async (refreshToken) => {
    const out = await client.send(new InitiateAuthCommand({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }));
    const result = out.AuthenticationResult ?? {};
    return { accessToken: result.AccessToken, idToken: result.IdToken, refreshToken: result.RefreshToken };
  };
}
