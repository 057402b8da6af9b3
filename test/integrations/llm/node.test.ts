import { expect } from "chai";
import { NodeOutputsSchema } from "../../../lib/model/node-outputs";
import { parseNodeConfig } from "../../../lib/node/config";
import { SynthResult, synthNode } from "../../../lib/node/synth";
import { staticEnvironment } from "../../../lib/runtime/aws/node";

type Statement = { Sid?: string; Action: string[]; Resource: string | string[]; Condition?: Record<string, Record<string, string | string[]>> };
const policy = (r: SynthResult, name: string) => {
  const found = r.resources.find((x) => x.type === "aws:iam/rolePolicy:RolePolicy" && x.name === name);
  expect(found, name).to.not.equal(undefined);
  return (JSON.parse(String(found!.inputs.policy)) as { Statement: Statement[] }).Statement;
};
const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);

describe("the LLM governor of a node (node program under mocks)", function () {
  this.timeout(120000);
  let secure: SynthResult;
  let compliant: SynthResult;
  before(async () => {
    const llm = { allowedModels: { "claude-haiku-4-5": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-sonnet-4-6": "global.anthropic.claude-sonnet-4-6" }, budgets: { executionUsd: 3 } };
    secure = await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "secure", enableLLMAccess: true, baaAcknowledged: true, llm }));
    compliant = await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode: "compliant", enableLLMAccess: true, baaAcknowledged: true }));
  });

  it("lets the governor invoke only the allowed models, their profiles' destinations only through those profiles", () => {
    const statements = policy(secure, "cn-n1-llm-governor-policy");
    const bedrock = statements.filter((s) => s.Action.some((a) => a.startsWith("bedrock:Invoke")));
    expect(bedrock.flatMap((s) => s.Action)).to.have.members(["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]);
    const count = statements.find((s) => s.Sid === "CountTokensOfAllowedModels")!;
    expect(count.Action).to.deep.equal(["bedrock:CountTokens"]);
    expect(count.Resource).to.have.members(["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-6"]);
    const [profiles, destinations] = bedrock;
    expect(profiles.Resource).to.have.members([
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0",
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6",
    ]);
    expect(destinations.Resource).to.have.members([
      "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
      "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6",
      "arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-6",
    ]);
    expect(destinations.Condition).to.deep.equal({ StringEquals: { "bedrock:InferenceProfileArn": profiles.Resource } });
    // Lambda's VPC network interfaces accept no resource scoping; everything else names this node's resources.
    const unscoped = statements.filter((s) => s.Resource === "*").flatMap((s) => s.Action);
    expect(unscoped.every((a) => a.startsWith("ec2:"))).to.equal(true);
  });

  it("gives processors the governor, never Bedrock itself", () => {
    for (const name of ["cn-n1-task-role-policy", "cn-n1-lambda-processor-role-policy"]) {
      const statements = policy(secure, name);
      expect(statements.flatMap((s) => s.Action).filter((a) => a.startsWith("bedrock:")), name).to.deep.equal([]);
      const url = statements.find((s) => s.Sid === "CallLlmGovernorUrl")!;
      expect(url.Resource).to.equal("arn:aws:lambda:us-east-1:123456789012:function:cn-n1-llm-governor");
      expect(url.Condition).to.deep.equal({ StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } });
      expect(statements.find((s) => s.Sid === "InvokeLlmGovernor")!.Action).to.deep.equal(["lambda:InvokeFunction"]);
    }
  });

  it("puts the governor behind an IAM-authenticated, streaming Function URL that processors get as ANTHROPIC_BASE_URL", () => {
    const [url] = ofType(secure, "aws:lambda/functionUrl:FunctionUrl");
    expect(url.inputs).to.deep.include({ authorizationType: "AWS_IAM", invokeMode: "RESPONSE_STREAM" });
    const outputs = NodeOutputsSchema.parse(secure.outputs);
    expect(outputs.llmBaseUrl).to.match(/^https:\/\/.+\.lambda-url\.us-east-1\.on\.aws\/$/);
    expect(outputs.llmUsageTableName).to.equal("cn-n1-llm-usage");
    const env = staticEnvironment(outputs);
    expect(env.ANTHROPIC_BASE_URL).to.equal(outputs.llmBaseUrl);
    expect(env.COMPUTE_NODE_LLM_FUNCTION).to.equal("arn:aws:lambda:us-east-1:123456789012:function:cn-n1-llm-governor");
  });

  it("hands the governor its resolved models, prices, budgets and the processor roles it accepts", () => {
    const governor = ofType(secure, "aws:lambda/function:Function").find((f) => f.name === "cn-n1-llm-governor")!;
    const vars = (governor.inputs.environment as { variables: Record<string, string> }).variables;
    const settings = JSON.parse(vars.LLM_SETTINGS) as { models: { id: string; price: { inputPerMTok: number } }[]; budgets: Record<string, number> };
    expect(settings.models.map((m) => [m.id, m.price.inputPerMTok])).to.deep.equal([["claude-haiku-4-5", 1.1], ["claude-sonnet-4-6", 3]]);
    expect(settings.budgets).to.deep.include({ executionUsd: 3, nodeMonthlyUsd: 100 });
    expect(vars.PROCESSOR_ROLE_NAMES.split(",")).to.have.length(2);
    expect(vars.EXECUTION_TABLE).to.equal("cn-n1-executions");
    expect(governor.inputs).to.deep.include({ handler: "lib/integrations/llm/lambda.handler", timeout: 900 });
    expect(Buffer.byteLength(JSON.stringify(vars))).to.be.below(4096, "Lambda caps a function's environment at 4 KB");
    const [table] = ofType(secure, "aws:dynamodb/table:Table").filter((t) => t.name === "cn-n1-llm-usage");
    expect(table.inputs.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
  });

  it("lets finalize read the execution's LLM totals for its cost report, and nothing else of the usage table", () => {
    const read = policy(secure, "cn-n1-finalize-role-policy").find((s) => s.Sid === "ReadLlmTotals")!;
    expect(read.Action).to.deep.equal(["dynamodb:GetItem"]);
    expect(read.Resource).to.match(/:table\/cn-n1-llm-usage$/);
  });

  it("creates no Function URL in compliant mode, where processors reach the governor through the Lambda VPC endpoint", () => {
    expect(ofType(compliant, "aws:lambda/functionUrl:FunctionUrl")).to.deep.equal([]);
    const outputs = NodeOutputsSchema.parse(compliant.outputs);
    expect(outputs.llmBaseUrl).to.equal(undefined);
    expect(staticEnvironment(outputs)).to.not.have.property("ANTHROPIC_BASE_URL");
    expect(staticEnvironment(outputs).COMPUTE_NODE_LLM_FUNCTION).to.match(/function:cn-n1-llm-governor$/);
    // Compliant mode has no Lambda processors: only the ECS task role may call.
    const governor = ofType(compliant, "aws:lambda/function:Function").find((f) => f.name === "cn-n1-llm-governor")!;
    expect((governor.inputs.environment as { variables: Record<string, string> }).variables.PROCESSOR_ROLE_NAMES.split(",")).to.have.length(1);
  });
});
