import { expect } from "chai";
import { NodeConfigInput, parseNodeConfig } from "../../../lib/node/config";
import { SynthResult, synthNode } from "../../../lib/node/synth";

const synth = (input: Partial<NodeConfigInput> & { mode: NodeConfigInput["mode"] }) => synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", ...input }));
type Statement = { Sid?: string; Action: string[]; Resource: string | string[] };
const statements = (r: SynthResult, role: string): Statement[] => {
  const policy = r.resources.find((x) => x.type === "aws:iam/rolePolicy:RolePolicy" && x.name === `cn-n1-${role}-policy`);
  expect(policy, role).to.not.equal(undefined);
  return (JSON.parse(String(policy!.inputs.policy)) as { Statement: Statement[] }).Statement;
};
const grants = (r: SynthResult, role: string, action: string) => statements(r, role).filter((s) => s.Action.includes(action)).flatMap((s) => [s.Resource].flat());

describe("ComputeNode token delivery", function () {
  this.timeout(120000);
  let secure: SynthResult;
  let compliant: SynthResult;
  before(async () => {
    secure = await synth({ mode: "secure", cognito: { region: "us-east-1", clientId: "4abcdefghijklmnopqrstuvwxy" } });
    compliant = await synth({ mode: "compliant" });
  });

  it("has a tokens function that knows its node, its env-file bucket and the Cognito app client, and exports where they are", () => {
    const fn = secure.resources.find((x) => x.type === "aws:lambda/function:Function" && x.name === "cn-n1-tokens")!;
    expect(fn.inputs).to.include({ name: "cn-n1-tokens", handler: "lib/integrations/tokens/lambda.handler" });
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    expect(variables).to.include({ COMPUTE_NODE_ID: "n1", COGNITO_REGION: "us-east-1", COGNITO_CLIENT_ID: "4abcdefghijklmnopqrstuvwxy" });
    expect(variables.ENV_FILE_BUCKET).to.be.a("string");
    expect(secure.outputs).to.include({ cognitoRegion: "us-east-1", cognitoClientId: "4abcdefghijklmnopqrstuvwxy" });
    expect(secure.outputs.tokensFunctionArn).to.be.a("string");
    expect(secure.outputs.envFileBucket).to.equal(variables.ENV_FILE_BUCKET);
    expect(compliant.outputs).to.not.have.property("cognitoClientId");
  });

  it("keeps env files in a private, encrypted, unversioned bucket whose leftovers expire after a day", () => {
    const bucket = secure.resources.find((x) => x.type === "aws:s3/bucket:Bucket" && x.name === "cn-n1-env-files")!;
    expect(bucket.inputs.bucketPrefix).to.equal("cn-n1-env-");
    expect(secure.resources.filter((x) => x.type === "aws:s3/bucketVersioning:BucketVersioning").map((x) => x.name)).to.not.include("cn-n1-env-files-versioning");
    const lifecycle = secure.resources.find((x) => x.name === "cn-n1-env-files-lifecycle")!;
    expect((lifecycle.inputs.rules as { expiration: unknown }[])[0].expiration).to.deep.equal({ days: 1 });
    const sse = secure.resources.find((x) => x.name === "cn-n1-env-files-sse")!;
    expect(JSON.stringify(sse.inputs.rules)).to.contain("aws:kms");
    expect(secure.resources.find((x) => x.name === "cn-n1-env-files-pab")!.inputs).to.include({ blockPublicAcls: true, restrictPublicBuckets: true });
  });

  it("lets the ECS agent read this node's env files only, the tokens function write them, and finalize delete them", () => {
    const files = (r: string[]) => r.every((arn) => /\/execution-env\/n1\/\*$/.test(arn));
    expect(files(grants(secure, "task-execution-role", "s3:GetObject"))).to.equal(true);
    expect(grants(secure, "task-execution-role", "s3:GetBucketLocation")).to.have.length(1);
    expect(files(grants(secure, "tokens-role", "s3:PutObject"))).to.equal(true);
    expect(files(grants(secure, "finalize-role", "s3:DeleteObject"))).to.equal(true);
    expect(grants(secure, "tokens-role", "secretsmanager:PutSecretValue")).to.deep.equal(grants(secure, "tokens-role", "secretsmanager:GetSecretValue"));
    expect(statements(secure, "tokens-role").flatMap((s) => s.Action)).to.not.include.members(["secretsmanager:DeleteSecret", "secretsmanager:CreateSecret", "s3:GetObject"]);
    // The processor itself (task role) never gets at the env files.
    expect(grants(secure, "task-role", "s3:GetObject")).to.deep.equal([]);
  });

  it("gives the state machine no token read where no processor needs one (compliant mode runs no Lambda processors)", () => {
    expect(grants(compliant, "state-machine-role", "secretsmanager:GetSecretValue")).to.deep.equal([]);
    expect(grants(secure, "state-machine-role", "secretsmanager:GetSecretValue")).to.have.length(1);
  });

  it("refuses a Cognito app client id that is not one", () => {
    expect(() => parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "basic", cognito: { region: "us-east-1", clientId: "a/b" } })).to.throw(/cognito\.clientId/);
  });
});
