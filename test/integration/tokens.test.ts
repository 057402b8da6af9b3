import { expect } from "chai";
import {
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  GetUserCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { createFinalizeHandler } from "../../lib/integrations/finalize/lambda";
import { CreateSecretCommand, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { createTokensHandler } from "../../lib/integrations/tokens/lambda";
import { parseEnvFile, readTokenSecret } from "../../lib/integrations/tokens/contract";
import { tokenExpiresAt } from "../../lib/integrations/tokens/refresh";
import { useMoto } from "./moto";
import { sdkConfig } from "./fixtures";

describe("session token refresh against Cognito (moto)", function () {
  this.timeout(30000);
  const moto = useMoto();
  let cognito: CognitoIdentityProviderClient;
  let s3: S3Client;
  let clientId: string;
  let issued: { AccessToken: string; RefreshToken: string };

  beforeEach(async () => {
    cognito = new CognitoIdentityProviderClient(sdkConfig(moto.endpoint));
    s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    const pool = await cognito.send(new CreateUserPoolCommand({ PoolName: "pennsieve" }));
    const poolId = pool.UserPool!.Id!;
    const client = await cognito.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: "workflows", ExplicitAuthFlows: ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"] }));
    clientId = client.UserPoolClient!.ClientId!;
    await cognito.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: "researcher" }));
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: "researcher", Password: "Correct-Horse-9", Permanent: true }));
    const auth = await cognito.send(new AdminInitiateAuthCommand({ UserPoolId: poolId, ClientId: clientId, AuthFlow: "ADMIN_USER_PASSWORD_AUTH", AuthParameters: { USERNAME: "researcher", PASSWORD: "Correct-Horse-9" } }));
    issued = { AccessToken: auth.AuthenticationResult!.AccessToken!, RefreshToken: auth.AuthenticationResult!.RefreshToken! };
    await moto.clients.secrets.send(new CreateSecretCommand({ Name: "cn/node-1/wi-long", SecretString: JSON.stringify({ sessionToken: issued.AccessToken, refreshToken: issued.RefreshToken }) }));
    await s3.send(new CreateBucketCommand({ Bucket: "cn-node-1-env" }));
  });

  const handlerAt = (now: Date) =>
    createTokensHandler({
      secrets: moto.clients.secrets,
      s3,
      cognito,
      now: () => now,
      env: { COMPUTE_NODE_ID: "node-1", ENV_FILE_BUCKET: "cn-node-1-env", AWS_REGION: "us-east-1", COGNITO_REGION: "us-east-1", COGNITO_CLIENT_ID: clientId },
      warn: () => undefined,
    });

  it("gives an ECS processor starting at hour 5 a session token Cognito accepts, and keeps it in the secret for the next one", async () => {
    const expiresAt = tokenExpiresAt(issued.AccessToken)!;
    expect(expiresAt).to.be.instanceOf(Date);
    const hourFive = new Date(expiresAt.getTime() + 4 * 3600_000);

    const out = await handlerAt(hourFive)({ action: "env-file", computeNodeId: "node-1", workflowInstanceId: "wi-long" });
    expect(out).to.deep.equal({ refreshed: true, envFile: "arn:aws:s3:::cn-node-1-env/execution-env/node-1/wi-long.env" });

    const object = await s3.send(new GetObjectCommand({ Bucket: "cn-node-1-env", Key: "execution-env/node-1/wi-long.env" }));
    const file = parseEnvFile(await object.Body!.transformToString());
    expect(file.SESSION_TOKEN).to.not.equal(issued.AccessToken);
    expect(file.REFRESH_TOKEN).to.equal(issued.RefreshToken);
    // Cognito itself accepts the refreshed token.
    const user = await cognito.send(new GetUserCommand({ AccessToken: file.SESSION_TOKEN }));
    expect(user.Username).to.equal("researcher");

    const stored = readTokenSecret((await moto.clients.secrets.send(new GetSecretValueCommand({ SecretId: "cn/node-1/wi-long" }))).SecretString!);
    expect(stored.sessionToken).to.equal(file.SESSION_TOKEN);
  });

  it("refreshes before a Lambda processor's ResolveToken only when the token expires within 15 minutes", async () => {
    const expiresAt = tokenExpiresAt(issued.AccessToken)!;
    const early = await handlerAt(new Date(expiresAt.getTime() - 30 * 60_000))({ action: "refresh", computeNodeId: "node-1", workflowInstanceId: "wi-long" });
    expect(early).to.deep.equal({ refreshed: false });
    expect(readTokenSecret((await moto.clients.secrets.send(new GetSecretValueCommand({ SecretId: "cn/node-1/wi-long" }))).SecretString!).sessionToken).to.equal(issued.AccessToken);

    const late = await handlerAt(new Date(expiresAt.getTime() - 10 * 60_000))({ action: "refresh", computeNodeId: "node-1", workflowInstanceId: "wi-long" });
    expect(late).to.deep.equal({ refreshed: true });
    const stored = readTokenSecret((await moto.clients.secrets.send(new GetSecretValueCommand({ SecretId: "cn/node-1/wi-long" }))).SecretString!);
    expect(stored.sessionToken).to.not.equal(issued.AccessToken);
    expect((await cognito.send(new GetUserCommand({ AccessToken: stored.sessionToken }))).Username).to.equal("researcher");
  });

  it("fails with TokenRefreshFailed when Cognito refuses the refresh token of an expired session", async () => {
    await moto.clients.secrets.send(new CreateSecretCommand({ Name: "cn/node-1/wi-revoked", SecretString: JSON.stringify({ sessionToken: issued.AccessToken, refreshToken: "not-a-refresh-token" }) }));
    const hourFive = new Date(tokenExpiresAt(issued.AccessToken)!.getTime() + 4 * 3600_000);
    const err = await handlerAt(hourFive)({ action: "env-file", computeNodeId: "node-1", workflowInstanceId: "wi-revoked" }).then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal("TokenRefreshFailed");
    expect(err?.message).to.not.contain("not-a-refresh-token");
  });
});

describe("finalize and the execution's environment file (moto)", function () {
  this.timeout(30000);
  const moto = useMoto();

  it("deletes the environment file with the token secret when the run ends", async () => {
    const s3 = new S3Client({ ...sdkConfig(moto.endpoint), forcePathStyle: true });
    const logs = new CloudWatchLogsClient(sdkConfig(moto.endpoint));
    for (const Bucket of ["archive", "cn-node-1-env"]) await s3.send(new CreateBucketCommand({ Bucket }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: "/cn/node-1" }));
    await moto.clients.secrets.send(new CreateSecretCommand({ Name: "cn/node-1/wi-done", SecretString: JSON.stringify({ sessionToken: "s", refreshToken: "r" }) }));
    await s3.send(new PutObjectCommand({ Bucket: "cn-node-1-env", Key: "execution-env/node-1/wi-done.env", Body: "SESSION_TOKEN=s\n" }));
    await s3.send(new PutObjectCommand({ Bucket: "cn-node-1-env", Key: "execution-env/node-1/wi-other.env", Body: "SESSION_TOKEN=o\n" }));
    const finalize = createFinalizeHandler({ s3, logs, secrets: moto.clients.secrets, env: { LOG_GROUP_NAME: "/cn/node-1", LOG_ARCHIVE_BUCKET: "archive", ENV_FILE_BUCKET: "cn-node-1-env" } });
    const out = await finalize({ action: "finalize", computeNodeId: "node-1", workflowInstanceId: "wi-done", status: "SUCCEEDED" });
    expect(out).to.include({ tokenSecret: "deleted", envFile: "deleted" });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "cn-node-1-env" }));
    expect((listed.Contents ?? []).map((o) => o.Key)).to.deep.equal(["execution-env/node-1/wi-other.env"]);
  });
});
