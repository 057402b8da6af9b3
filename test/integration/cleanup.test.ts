import { expect } from "chai";
import { ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { ListStateMachinesCommand, CreateStateMachineCommand, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { ListTaskDefinitionsCommand } from "@aws-sdk/client-ecs";
import { CreateNetworkInterfaceCommand, CreateSubnetCommand, CreateVpcCommand, DescribeNetworkInterfacesCommand } from "@aws-sdk/client-ec2";
import { resolvePlan } from "../../lib/plan/resolve";
import { stateMachineName } from "../../lib/model/names";
import { NodeOutputs } from "../../lib/model/node-outputs";
import { ConflictError } from "../../lib/errors";
import { AwsClients } from "../../lib/runtime/aws/clients";
import { deployWorkflow } from "../../lib/runtime/aws/executions";
import { cleanupNodeResources, cleanupWorkflow } from "../../lib/runtime/aws/cleanup";
import { useMoto } from "./moto";
import { motoClients, motoNode } from "./fixtures";

const workflow = (name: string, images: string[]) => ({ name, processors: images.map((img, i) => ({ id: `p${i}`, sourceUrl: img, ...(i ? { dependsOn: [`p${i - 1}`] } : {}) })) });
const regs = (lambda: string[], ecs: string[] = []) => [...lambda.map((sourceUrl) => ({ sourceUrl, computeTypes: ["lambda"] })), ...ecs.map((sourceUrl) => ({ sourceUrl, computeTypes: ["ecs"] }))];

async function inventory(clients: AwsClients) {
  const functions = ((await clients.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName!).sort();
  const machines = ((await clients.sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? []).map((m) => m.name!).sort();
  const taskDefinitions = ((await clients.ecs.send(new ListTaskDefinitionsCommand({ status: "ACTIVE" }))).taskDefinitionArns ?? []).map((a) => a.split("/").pop()!).sort();
  return { functions, machines, taskDefinitions };
}

describe("cleanup (moto)", function () {
  this.timeout(40000);
  const moto = useMoto();

  async function deployOn(node: NodeOutputs, name: string, lambda: string[], ecs: string[] = []) {
    return deployWorkflow({ node, plan: resolvePlan(workflow(name, [...lambda, ...ecs]), { processors: regs(lambda, ecs), mode: "secure" }), clients: moto.clients });
  }

  it("removes every function, state machine and task definition of a node and nothing of another node, idempotently, as its dry run listed", async () => {
    const { clients } = moto;
    const a = await motoNode(moto.endpoint, "node-a");
    // "node-a-b" starts with "node-a-": name prefixes alone would confuse the two.
    const b = await motoNode(moto.endpoint, "node-a-b");
    const deployedA = await deployOn(a, "wf", ["img-1:1", "img-2:1"], ["img-3:1"]);
    const deployedB = await deployOn(b, "wf", ["img-1:1"], ["img-3:1"]);
    const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
    const subnet = await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId, CidrBlock: "10.0.1.0/24" }));
    const fnName = deployedA.lambdaFunctions.p0.split(":").pop()!;
    const eni = await clients.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet!.SubnetId, Description: `AWS Lambda VPC ENI-${fnName}-0123` }));
    const fnNameB = deployedB.lambdaFunctions.p0.split(":").pop()!;
    const eniB = await clients.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet!.SubnetId, Description: `AWS Lambda VPC ENI-${fnNameB}-0456` }));

    const before = await inventory(clients);
    expect(before.functions).to.have.length(3);
    const planner = motoClients(moto.endpoint);
    const planned = await cleanupNodeResources({ computeNodeId: "node-a", region: "us-east-1", clients: planner, dryRun: true });
    expect(planner.mutations.calls).to.deep.equal([]);
    expect(await inventory(clients)).to.deep.equal(before);
    const result = await cleanupNodeResources({ computeNodeId: "node-a", region: "us-east-1", clients });
    for (const key of ["deletedFunctions", "deletedStateMachines", "deregisteredTaskDefinitions", "deletedNetworkInterfaces"] as const) expect(result[key], key).to.deep.equal(planned[key]);
    expect(result.deletedFunctions.sort()).to.deep.equal(Object.values(deployedA.lambdaFunctions).map((arn) => arn.split(":").pop()!).sort());
    expect(result.deletedStateMachines).to.deep.equal([deployedA.stateMachineArn]);
    expect(result.deletedNetworkInterfaces).to.deep.equal([eni.NetworkInterface!.NetworkInterfaceId]);

    const left = await inventory(clients);
    expect(left.functions.filter((f) => f.startsWith("proc-lambda-node-a-") && !f.startsWith("proc-lambda-node-a-b-"))).to.deep.equal([]);
    expect(left.functions).to.have.length(1).and.satisfy((fs: string[]) => fs.every((f) => f.startsWith("proc-lambda-node-a-b-")));
    expect(left.machines).to.deep.equal([stateMachineName("node-a-b", "wf")]);
    expect(left.taskDefinitions).to.have.length(1).and.satisfy((ts: string[]) => ts.every((t) => t.startsWith("cn-node-a-b-")));
    const enis = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "description", Values: [`AWS Lambda VPC ENI-${fnName}*`] }] }));
    expect(enis.NetworkInterfaces).to.deep.equal([]);

    const survivors = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "description", Values: ["AWS Lambda VPC ENI-*"] }] }));
    expect(survivors.NetworkInterfaces!.map((n) => n.NetworkInterfaceId)).to.deep.equal([eniB.NetworkInterface!.NetworkInterfaceId]);

    const again = await cleanupNodeResources({ computeNodeId: "node-a", region: "us-east-1", clients });
    expect(again.mutatingCalls).to.equal(0);

    // An ENI that Lambda released only after the function was gone is still found by a later cleanup (the destroy hook polls).
    const late = await clients.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet.Subnet!.SubnetId, Description: `AWS Lambda VPC ENI-${fnName}-0789` }));
    const third = await cleanupNodeResources({ computeNodeId: "node-a", region: "us-east-1", clients });
    expect(third.deletedNetworkInterfaces).to.deep.equal([late.NetworkInterface!.NetworkInterfaceId]);
  });

  it("refuses while an execution of the node runs, naming it, and stops it with force", async () => {
    const { clients } = moto;
    const node = await motoNode(moto.endpoint, "node-busy");
    const slow = await clients.sfn.send(
      new CreateStateMachineCommand({
        name: stateMachineName("node-busy", "slow"),
        roleArn: node.stateMachineRoleArn,
        definition: JSON.stringify({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 30, End: true } } }),
        tags: [{ key: "compute-node:node", value: "node-busy" }],
      }),
    );
    const execution = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn: slow.stateMachineArn, name: "wi-slow" }));
    const refused = await cleanupNodeResources({ computeNodeId: "node-busy", region: "us-east-1", clients }).then(() => undefined, (err) => err);
    expect(refused).to.be.instanceOf(ConflictError);
    expect(refused.holderId).to.equal(execution.executionArn);
    expect(refused.message).to.include(execution.executionArn);
    expect((await inventory(clients)).machines).to.have.length(1);

    const forced = await cleanupNodeResources({ computeNodeId: "node-busy", region: "us-east-1", clients, force: true });
    expect(forced.stoppedExecutions).to.deep.equal([execution.executionArn]);
    // moto forgets a machine's executions with the machine, so the stop is checked by the call made.
    expect(clients.mutations.calls.indexOf("sfn:StopExecution")).to.be.lessThan(clients.mutations.calls.indexOf("sfn:DeleteStateMachine"));
    expect((await inventory(clients)).machines).to.deep.equal([]);
  });

  it("deletes a workflow's machines and the functions only it used, keeping shared ones for the other workflow, after a dry run that listed the same and deleted nothing", async () => {
    const { clients } = moto;
    const node = await motoNode(moto.endpoint, "node-wf");
    await deployOn(node, "first", ["shared:1", "only-first:1"], ["ecs-shared:1"]);
    await deployOn(node, "second", ["shared:1"], ["ecs-shared:1"]);
    const deployed = await inventory(clients);
    const planner = motoClients(moto.endpoint);
    const planned = await cleanupWorkflow({ computeNodeId: "node-wf", workflowName: "first", region: "us-east-1", clients: planner, dryRun: true });
    expect(planner.mutations.calls).to.deep.equal([]);
    expect(planned.dryRun).to.equal(true);
    expect(await inventory(clients)).to.deep.equal(deployed);
    const result = await cleanupWorkflow({ computeNodeId: "node-wf", workflowName: "first", region: "us-east-1", clients });
    const { dryRun, mutatingCalls, ...lists } = planned;
    expect(result).to.deep.include(lists);
    expect(result.deletedFunctions).to.have.length(1);
    expect(result.releasedResources).to.have.length(2);
    const left = await inventory(clients);
    expect(left.machines).to.deep.equal([stateMachineName("node-wf", "second")]);
    expect(left.functions).to.have.length(1);
    expect(left.taskDefinitions).to.have.length(1);
    // The other workflow still deploys with nothing to do.
    const redeploy = await deployWorkflow({ node, plan: resolvePlan(workflow("second", ["shared:1", "ecs-shared:1"]), { processors: regs(["shared:1"], ["ecs-shared:1"]), mode: "secure" }), clients: motoClients(moto.endpoint) });
    expect(redeploy.mutatingCalls).to.equal(0);

    await cleanupWorkflow({ computeNodeId: "node-wf", workflowName: "second", region: "us-east-1", clients });
    expect(await inventory(clients)).to.deep.equal({ functions: [], machines: [], taskDefinitions: [] });
    expect((await cleanupWorkflow({ computeNodeId: "node-wf", workflowName: "second", region: "us-east-1", clients })).mutatingCalls).to.equal(0);
  });

  it("completes a registration that failed half-way on the next attempt, without duplicates", async () => {
    const { clients } = moto;
    const node = await motoNode(moto.endpoint, "node-fault");
    const plan = resolvePlan(workflow("wf", ["l1:1", "l2:1", "e1:1"]), { processors: regs(["l1:1", "l2:1"], ["e1:1"]), mode: "secure" });
    // Fault injection: the first CreateFunction succeeds, the second fails, as a throttle or crash would.
    let creates = 0;
    const faulty: AwsClients = {
      ...clients,
      lambda: {
        send: (async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === "CreateFunctionCommand" && ++creates === 2) throw Object.assign(new Error("injected"), { name: "ServiceException" });
          return clients.lambda.send(command as never);
        }) as never,
      },
    };
    const failed = await deployWorkflow({ node, plan, clients: faulty }).then(() => undefined, (err) => err);
    expect(failed).to.be.instanceOf(Error);
    expect((await inventory(clients)).machines).to.deep.equal([]);

    const retried = await deployWorkflow({ node, plan, clients: motoClients(moto.endpoint) });
    expect(Object.keys(retried.lambdaFunctions).sort()).to.deep.equal(["p0", "p1"]);
    const after = await inventory(clients);
    expect(after.functions).to.have.length(2);
    expect(after.taskDefinitions).to.have.length(1);
    expect(after.machines).to.have.length(1);
    expect((await deployWorkflow({ node, plan, clients: motoClients(moto.endpoint) })).mutatingCalls).to.equal(0);
  });
});
