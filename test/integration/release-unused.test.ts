import { expect } from "chai";
import { ListFunctionsCommand, ListTagsCommand } from "@aws-sdk/client-lambda";
import { ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { resolvePlan } from "../../lib/plan/resolve";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { deployWorkflow } from "../../lib/runtime/aws/executions";
import { useMoto } from "./moto";
import { motoClients, motoNode } from "./fixtures";

describe("redeploying a workflow whose images changed (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();
  let node: NodeOutputs;
  beforeEach(async () => (node = await motoNode(moto.endpoint, "node-r")));

  const deploy = (name: string, lambdaImage: string, ecsImage?: string) =>
    deployWorkflow({
      node,
      plan: resolvePlan(
        { name, processors: [{ id: "a", sourceUrl: lambdaImage }, ...(ecsImage ? [{ id: "b", sourceUrl: ecsImage, dependsOn: ["a"] }] : [])] },
        { processors: [{ sourceUrl: lambdaImage, computeTypes: ["lambda"] }, ...(ecsImage ? [{ sourceUrl: ecsImage, computeTypes: ["ecs"] }] : [])], mode: "secure" },
      ),
      clients: motoClients(moto.endpoint),
    });
  const functions = async () => ((await moto.clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionArn!).sort();
  const activeRevisions = async () => ((await moto.clients.ecs.send(new ListTaskDefinitionsCommand({ status: "ACTIVE" }))).taskDefinitionArns ?? []).sort();

  it("removes the old image's function and task definition, keeps one another workflow still uses, and then changes nothing", async () => {
    const v1 = await deploy("wf", "img-a:1", "img-b:1");
    const other = await deploy("other", "img-a:1");
    expect(other.lambdaFunctions.a).to.equal(v1.lambdaFunctions.a);

    const v2 = await deploy("wf", "img-a:2", "img-b:2");
    expect(v2.lambdaFunctions.a).to.not.equal(v1.lambdaFunctions.a);
    // img-a:1's function stays for "other" but no longer counts as used by "wf"; img-b:1's task definition is gone.
    expect(await functions()).to.deep.equal([v1.lambdaFunctions.a, v2.lambdaFunctions.a].sort());
    const tags = (await moto.clients.lambda.send(new ListTagsCommand({ Resource: v1.lambdaFunctions.a }))).Tags ?? {};
    const users = Object.entries(tags).filter(([k]) => k.startsWith("compute-node:wf:")).map(([, v]) => v);
    expect(users).to.deep.equal(["other"]);
    expect(await activeRevisions()).to.deep.equal([v2.taskDefinitions.b]);

    expect((await deploy("wf", "img-a:2", "img-b:2")).mutatingCalls).to.equal(0);

    // Once "other" moves on too, nothing uses img-a:1 and its function goes.
    await deploy("other", "img-a:2");
    expect(await functions()).to.deep.equal([v2.lambdaFunctions.a]);
  });

  it("keeps the old resources while an execution of the workflow runs, and releases them on the next deploy", async () => {
    const v1 = await deploy("wf", "img-a:1", "img-b:1");
    // moto's executions of this machine end in a moment: report one RUNNING, as Step Functions would mid-run.
    const running = motoClients(moto.endpoint);
    const realSfn = running.sfn;
    running.sfn = {
      send: ((command: { constructor: { name: string }; input: { statusFilter?: string } }) =>
        command.constructor.name === "ListExecutionsCommand" && command.input.statusFilter === "RUNNING"
          ? Promise.resolve({ executions: [{ executionArn: "arn:aws:states:us-east-1:123456789012:execution:m:wi-1", status: "RUNNING" }] })
          : realSfn.send(command as never)) as typeof realSfn.send,
    };
    const plan = resolvePlan(
      { name: "wf", processors: [{ id: "a", sourceUrl: "img-a:2" }, { id: "b", sourceUrl: "img-b:2", dependsOn: ["a"] }] },
      { processors: [{ sourceUrl: "img-a:2", computeTypes: ["lambda"] }, { sourceUrl: "img-b:2", computeTypes: ["ecs"] }], mode: "secure" },
    );
    const v2 = await deployWorkflow({ node, plan, clients: running });
    expect(running.mutations.calls.filter((c) => /Delete|Deregister|Untag/.test(c))).to.deep.equal([]);
    expect(await functions()).to.deep.equal([v1.lambdaFunctions.a, v2.lambdaFunctions.a].sort());
    expect(await activeRevisions()).to.deep.equal([v1.taskDefinitions.b, v2.taskDefinitions.b].sort());

    await deploy("wf", "img-a:2", "img-b:2");
    expect(await functions()).to.deep.equal([v2.lambdaFunctions.a]);
    expect(await activeRevisions()).to.deep.equal([v2.taskDefinitions.b]);
  });
});
