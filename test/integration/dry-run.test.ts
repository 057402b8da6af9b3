import { expect } from "chai";
import { resolvePlan } from "../../lib/plan/resolve";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { deployWorkflow } from "../../lib/runtime/aws/executions";
import { useMoto } from "./moto";
import { motoClients, motoNode } from "./fixtures";

describe("deployWorkflow with dryRun (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();
  let node: NodeOutputs;
  beforeEach(async () => (node = await motoNode(moto.endpoint, "node-plan")));

  const plan = (lambdaImage: string, ecsImage: string) =>
    resolvePlan(
      { name: "wf", processors: [{ id: "a", sourceUrl: lambdaImage }, { id: "b", sourceUrl: ecsImage, dependsOn: ["a"] }] },
      { processors: [{ sourceUrl: lambdaImage, computeTypes: ["lambda"] }, { sourceUrl: ecsImage, computeTypes: ["ecs"] }], mode: "secure" },
    );

  it("plans every create of a new workflow without a mutating call, and the deploy then makes exactly those", async () => {
    const clients = motoClients(moto.endpoint);
    const planned = await deployWorkflow({ node, plan: plan("img-a:1", "img-b:1"), clients, dryRun: true });
    expect(clients.mutations.calls).to.deep.equal([]);
    expect(planned.dryRun).to.equal(true);
    expect(planned.mutatingCalls).to.equal(0);
    expect(planned.changes.map((c) => `${c.action} ${c.kind}`)).to.deep.equal(["create function", "create task definition", "create state machine"]);
    expect(planned.changes[0].why).to.include("img-a:1");
    expect(planned.changes[2].name).to.equal(planned.stateMachineArn.split(":").pop());

    const deployed = await deployWorkflow({ node, plan: plan("img-a:1", "img-b:1"), clients: motoClients(moto.endpoint) });
    expect(deployed.dryRun).to.equal(false);
    expect(deployed.changes).to.deep.equal(planned.changes);
    // The plan compiled with the ARNs the deploy then got.
    expect(deployed.taskDefinitions).to.deep.equal(planned.taskDefinitions);
    expect(deployed.lambdaFunctions).to.deep.equal(planned.lambdaFunctions);
    expect(deployed.definitionHash).to.equal(planned.definitionHash);

    const again = motoClients(moto.endpoint);
    expect((await deployWorkflow({ node, plan: plan("img-a:1", "img-b:1"), clients: again, dryRun: true })).changes).to.deep.equal([]);
    expect(again.mutations.calls).to.deep.equal([]);
  });

  it("plans a changed workflow's new resources, machine update and releases without a mutating call, and the deploy matches it", async () => {
    const v1 = await deployWorkflow({ node, plan: plan("img-a:1", "img-b:1"), clients: motoClients(moto.endpoint) });
    const clients = motoClients(moto.endpoint);
    const planned = await deployWorkflow({ node, plan: plan("img-a:2", "img-b:2"), clients, dryRun: true });
    expect(clients.mutations.calls).to.deep.equal([]);
    const summary = planned.changes.map((c) => `${c.action} ${c.kind}: ${c.why}`);
    expect(summary).to.deep.equal([
      "create function: new image img-a:2",
      "create task definition: new family (no active revision for this image and size)",
      "update state machine: definition changed",
      'delete function: no longer used by workflow "wf" nor any other',
      'delete task definition: no longer used by workflow "wf" nor any other',
    ]);
    const deletes = planned.changes.filter((c) => c.action === "delete");
    expect(deletes.map((c) => c.name)).to.deep.equal([v1.lambdaFunctions.a.split(":").pop(), v1.taskDefinitions.b]);
    for (const d of deletes) expect(d.why).to.include('no longer used by workflow "wf"');

    const deployed = await deployWorkflow({ node, plan: plan("img-a:2", "img-b:2"), clients: motoClients(moto.endpoint) });
    expect(deployed.changes).to.deep.equal(planned.changes);
    expect(deployed.definitionHash).to.equal(planned.definitionHash);
  });
});
