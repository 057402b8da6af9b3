import { expect } from "chai";
import { createTokensHandler } from "../../../lib/integrations/tokens/lambda";
import { parseEnvFile } from "../../../lib/integrations/tokens/contract";
import { jwt } from "./helpers";

interface Sent {
  name: string;
  input: Record<string, unknown>;
}

/** Secrets Manager and S3 stand-ins that keep what they were sent. */
function fakes(secret: Record<string, string>) {
  const sent: Sent[] = [];
  const stored = new Map(Object.entries(secret));
  const objects = new Map<string, string>();
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name;
    sent.push({ name, input: command.input });
    if (name === "GetSecretValueCommand") {
      const value = stored.get(String(command.input.SecretId));
      if (value === undefined) throw Object.assign(new Error("not found"), { name: "ResourceNotFoundException" });
      return { SecretString: value };
    }
    if (name === "PutSecretValueCommand") return stored.set(String(command.input.SecretId), String(command.input.SecretString)), {};
    if (name === "PutObjectCommand") return objects.set(`${command.input.Bucket}/${command.input.Key}`, String(command.input.Body)), {};
    throw new Error(`unexpected ${name}`);
  };
  return { sent, stored, objects, client: { send } as never };
}

const env = { COMPUTE_NODE_ID: "node-1", ENV_FILE_BUCKET: "cn-node-1-env-abc", AWS_REGION: "eu-west-1" };
const T0 = new Date("2026-03-01T10:00:00Z");

describe("tokens function (Lambda)", () => {
  it("writes an ECS processor's environment file and answers only where it is", async () => {
    const session = jwt({ exp: T0.getTime() / 1000 + 3600 });
    const f = fakes({ "cn/node-1/wi-1": JSON.stringify({ sessionToken: session, refreshToken: "refresh-1" }) });
    const handler = createTokensHandler({ secrets: f.client, s3: f.client, env, now: () => T0 });
    const out = await handler({ action: "env-file", computeNodeId: "node-1", workflowInstanceId: "wi-1" });
    expect(out).to.deep.equal({ refreshed: false, envFile: "arn:aws:s3:::cn-node-1-env-abc/execution-env/node-1/wi-1.env" });
    expect(JSON.stringify(out)).to.not.contain("refresh-1");
    expect(parseEnvFile(f.objects.get("cn-node-1-env-abc/execution-env/node-1/wi-1.env")!)).to.deep.equal({ SESSION_TOKEN: session, REFRESH_TOKEN: "refresh-1" });
  });

  it("refreshes an expiring session token, writes it back to the secret and into the file", async () => {
    const old = jwt({ exp: T0.getTime() / 1000 + 300 });
    const fresh = jwt({ exp: T0.getTime() / 1000 + 3900 });
    const f = fakes({ "cn/node-1/wi-1": JSON.stringify({ sessionToken: old, refreshToken: "refresh-1" }) });
    const handler = createTokensHandler({ secrets: f.client, s3: f.client, env, now: () => T0, refresh: async () => ({ accessToken: fresh }) });
    expect(await handler({ action: "refresh", computeNodeId: "node-1", workflowInstanceId: "wi-1" })).to.deep.equal({ refreshed: true });
    expect(JSON.parse(f.stored.get("cn/node-1/wi-1")!)).to.deep.equal({ sessionToken: fresh, refreshToken: "refresh-1" });
    expect(f.sent.map((s) => s.name)).to.deep.equal(["GetSecretValueCommand", "PutSecretValueCommand"]);
  });

  it("serves its own node only, and ids that match the model's patterns", async () => {
    const f = fakes({});
    const handler = createTokensHandler({ secrets: f.client, s3: f.client, env, now: () => T0 });
    for (const [payload, field] of [
      [{ action: "env-file", computeNodeId: "node-2", workflowInstanceId: "wi-1" }, "computeNodeId"],
      [{ action: "env-file", computeNodeId: "node-1", workflowInstanceId: "../wi-2" }, "workflowInstanceId"],
      [{ action: "dump", computeNodeId: "node-1", workflowInstanceId: "wi-1" }, "action"],
    ] as const) {
      const err = await handler(payload).then(() => undefined, (e: { name: string; field?: string }) => e);
      expect(err, JSON.stringify(payload)).to.include({ name: "TokenInputError", field });
    }
    expect(f.sent).to.deep.equal([]);
  });

  it("refuses to write a token that would break the environment file, without echoing it", async () => {
    const f = fakes({ "cn/node-1/wi-1": JSON.stringify({ sessionToken: "abc\nINPUT_DIR=/etc", refreshToken: "r" }) });
    const handler = createTokensHandler({ secrets: f.client, s3: f.client, env, now: () => T0 });
    const err = await handler({ action: "env-file", computeNodeId: "node-1", workflowInstanceId: "wi-1" }).then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal("TokenInputError");
    expect(err?.message).to.not.contain("INPUT_DIR=/etc");
    expect(f.objects.size).to.equal(0);
  });
});
