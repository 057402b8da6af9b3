import { expect } from "chai";
import { DeregisterTaskDefinitionCommand, ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { resolvePlan } from "../../lib/plan/resolve";
import { deployWorkflow } from "../../lib/runtime/aws/executions";
import { cleanupNodeResources } from "../../lib/runtime/aws/cleanup";
import { useMoto } from "./moto";
import { motoNode } from "./fixtures";

describe("node cleanup after an interrupted cleanup (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();

  const revisions = async (status: "ACTIVE" | "INACTIVE") => ((await moto.clients.ecs.send(new ListTaskDefinitionsCommand({ status }))).taskDefinitionArns ?? []).sort();

  it("deletes task definitions an earlier attempt only deregistered, keeps another node's, and then has nothing left to do", async () => {
    const { clients } = moto;
    const plan = resolvePlan({ name: "wf", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] }, { processors: [{ sourceUrl: "img-a:1", computeTypes: ["ecs"] }, { sourceUrl: "img-b:1", computeTypes: ["ecs"] }], mode: "secure" });
    const mine = await deployWorkflow({ node: await motoNode(moto.endpoint, "node-x"), plan, clients });
    const other = await deployWorkflow({ node: await motoNode(moto.endpoint, "node-x-y"), plan, clients });
    // The interrupted attempt: both of node-x's revisions deregistered (INACTIVE), none deleted; node-x-y's "a" too.
    for (const arn of [mine.taskDefinitions.a, mine.taskDefinitions.b, other.taskDefinitions.a]) await clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    expect(await revisions("INACTIVE")).to.have.length(3);

    const result = await cleanupNodeResources({ computeNodeId: "node-x", region: "us-east-1", clients });
    expect(result.mutatingCalls).to.be.greaterThan(0);
    expect(await revisions("INACTIVE")).to.deep.equal([other.taskDefinitions.a]);
    expect(await revisions("ACTIVE")).to.deep.equal([other.taskDefinitions.b]);

    const again = await cleanupNodeResources({ computeNodeId: "node-x", region: "us-east-1", clients });
    expect(again.mutatingCalls).to.equal(0);
  });
});
