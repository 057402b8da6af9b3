import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { GetFunctionCommand } from "@aws-sdk/client-lambda";
import { DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { ListTagsForResourceCommand, StopExecutionCommand } from "@aws-sdk/client-sfn";
import { resolvePlan } from "../../lib/plan/resolve";
import { deployWorkflow, startWorkflowExecution } from "../../lib/runtime/aws/executions";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { TAG } from "../../lib/model/tags";
import { useMoto } from "./moto";
import { createNodeFunctions, motoNode } from "./fixtures";

const workflow = {
  name: "wf-tags",
  processors: [
    { id: "a", sourceUrl: "img-a:1" },
    { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] },
  ],
};

describe("cost-allocation tags on what the runtime registers (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();

  it("tags task definitions, functions, the state machine and the token secret with the node, its environment and the user's tags", async () => {
    const { clients } = moto;
    // A node exports its environment and the config's own tags (lib/node/compute-node.ts outputs).
    const node = { ...(await motoNode(moto.endpoint, "node-tags")), environment: "prod", tags: { team: "imaging", "aws:reserved": "dropped" } };
    await createNodeFunctions(clients, node);
    await clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("cn-tags-executions")));
    const store = new DynamoRecordStore({ clients, tableName: "cn-tags-executions" });
    const plan = resolvePlan(workflow, { processors: [{ sourceUrl: "img-a:1", computeTypes: ["ecs"] }, { sourceUrl: "img-b:1", computeTypes: ["lambda"] }], mode: "secure" });
    const started = await startWorkflowExecution({ node, plan, clients, store, tokens: { sessionToken: "s-123456", refreshToken: "r-123456" } });
    await clients.sfn.send(new StopExecutionCommand({ executionArn: started.executionArn })).catch(() => undefined);
    const expected = { [TAG.node]: "node-tags", [TAG.environment]: "prod", team: "imaging" };

    const taskDefinition = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: started.deploy.taskDefinitions.a, include: ["TAGS"] }));
    expect(Object.fromEntries((taskDefinition.tags ?? []).map((t) => [t.key, t.value]))).to.include(expected);
    const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: started.deploy.lambdaFunctions.b }));
    expect(fn.Tags).to.include(expected);
    expect(Object.keys(fn.Tags ?? {})).to.not.include("aws:reserved");
    const machineTags = await clients.sfn.send(new ListTagsForResourceCommand({ resourceArn: started.stateMachineArn }));
    expect(Object.fromEntries((machineTags.tags ?? []).map((t) => [t.key, t.value]))).to.include(expected);
    const secret = await clients.secrets.send(new DescribeSecretCommand({ SecretId: `cn/node-tags/${started.executionId}` }));
    expect(Object.fromEntries((secret.Tags ?? []).map((t) => [t.Key, t.Value]))).to.include({ ...expected, [TAG.execution]: started.executionId });
  });

  it("gives a state machine deployed before the user's tags existed those tags with its next change", async () => {
    const { clients } = moto;
    const node = await motoNode(moto.endpoint, "node-retag");
    await createNodeFunctions(clients, node);
    const registrations = [{ sourceUrl: "img-a:1", computeTypes: ["lambda"] }, { sourceUrl: "img-b:1", computeTypes: ["lambda"] }];
    const first = await deployWorkflow({ node, plan: resolvePlan({ name: "wf-retag", processors: [workflow.processors[0]] }, { processors: registrations, mode: "secure" }), clients });
    const tagsOf = async () => Object.fromEntries(((await clients.sfn.send(new ListTagsForResourceCommand({ resourceArn: first.stateMachineArn }))).tags ?? []).map((t) => [t.key, t.value]));
    expect(await tagsOf()).to.not.have.property("team");
    const second = await deployWorkflow({ node: { ...node, tags: { team: "imaging" } }, plan: resolvePlan({ ...workflow, name: "wf-retag" }, { processors: registrations, mode: "secure" }), clients });
    expect(second.stateMachineArn).to.equal(first.stateMachineArn);
    expect(await tagsOf()).to.include({ [TAG.node]: "node-retag", team: "imaging" });
  });
});
