import { expect } from "chai";
import { DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { GetFunctionCommand, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { DescribeStateMachineCommand } from "@aws-sdk/client-sfn";
import { deployWorkflow } from "../../lib/runtime/aws/executions";
import { resolvePlan } from "../../lib/plan/resolve";
import { registerTaskDefinitions } from "../../lib/runtime/aws/register-ecs";
import { registerLambdaFunctions } from "../../lib/runtime/aws/register-lambda";
import { LAMBDA_NAME_PATTERN } from "../../lib/model/names";
import { readMarkers } from "../../lib/compile";
import { useMoto } from "./moto";
import { motoClients, motoNode } from "./fixtures";

/** A state by name anywhere in a machine (Parallel branches and Map processors included). */
function findState(graph: { States: Record<string, any> }, name: string): Record<string, unknown> {
  for (const [key, state] of Object.entries(graph.States)) {
    if (key === name) return state;
    for (const sub of [...(state.Branches ?? []), ...(state.ItemProcessor ? [state.ItemProcessor] : [])]) {
      const found = findState(sub, name);
      if (found) return found;
    }
  }
  return undefined as never;
}

const workflow = {
  name: "wf-register",
  processors: [
    { id: "a", sourceUrl: "123456789012.dkr.ecr.us-east-1.amazonaws.com/align:1" },
    { id: "b", sourceUrl: "123456789012.dkr.ecr.us-east-1.amazonaws.com/trim:1", dependsOn: ["a"] },
    { id: "c", sourceUrl: "123456789012.dkr.ecr.us-east-1.amazonaws.com/qc:1", dependsOn: ["a"] },
  ],
};
const registrations = (qcImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/qc:1", alignImage = workflow.processors[0].sourceUrl): Record<string, unknown>[] => [
  { sourceUrl: alignImage, computeTypes: ["ecs"], cpu: 1, memory: 2048 },
  { sourceUrl: workflow.processors[1].sourceUrl, computeTypes: ["lambda"], memory: 1024, timeout: 300 },
  { sourceUrl: qcImage, computeTypes: ["lambda"] },
];

describe("registration (moto)", function () {
  this.timeout(30000);
  const moto = useMoto();

  it("registers task definitions and functions once, then reuses them with zero mutating calls", async () => {
    const node = await motoNode(moto.endpoint, "node-reg");
    const plan = resolvePlan(workflow, { processors: registrations(), mode: "secure" });
    const { clients } = moto;
    const ecs1 = await registerTaskDefinitions({ node, plan, clients });
    const lambda1 = await registerLambdaFunctions({ node, plan, clients });
    expect(clients.mutations.calls.sort()).to.deep.equal(["ecs:RegisterTaskDefinition", "lambda:CreateFunction", "lambda:CreateFunction"]);
    expect(Object.keys(ecs1)).to.deep.equal(["a"]);
    expect(Object.keys(lambda1).sort()).to.deep.equal(["b", "c"]);

    const td = (await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ecs1.a }))).taskDefinition!;
    expect(td.cpu).to.equal("1024");
    expect(td.memory).to.equal("2048");
    expect(td.executionRoleArn).to.equal(node.taskExecutionRoleArn);
    expect(td.containerDefinitions![0].image).to.equal(workflow.processors[0].sourceUrl);
    expect(td.containerDefinitions![0].logConfiguration!.options!["awslogs-group"]).to.equal(node.logGroupName);
    expect(td.volumes![0].efsVolumeConfiguration!.authorizationConfig!.accessPointId).to.equal("fsap-0123456789abcdef0");
    const env = Object.fromEntries(td.containerDefinitions![0].environment!.map((e) => [e.name, e.value]));
    expect(env).to.include({ REGION: "us-east-1", DEPLOYMENT_MODE: "secure", PENNSIEVE_API_HOST: "https://api.pennsieve.net" });

    const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: lambda1.b }));
    expect(fn.Configuration!.FunctionName).to.match(/^proc-lambda-node-reg-[0-9a-f]{12}$/);
    expect(fn.Configuration!.PackageType).to.equal("Image");
    expect(fn.Configuration!.MemorySize).to.equal(1024);
    expect(fn.Configuration!.Timeout).to.equal(300);
    // moto does not keep FileSystemConfigs; test/runtime/aws checks what CreateFunction sends.
    expect(fn.Configuration!.VpcConfig!.SubnetIds).to.have.members(node.subnetIds);
    expect(fn.Configuration!.Environment!.Variables).to.include({ DEPLOYMENT_MODE: "secure", ENVIRONMENT: "dev" });
    expect(fn.Tags).to.include({ "compute-node:node": "node-reg", "compute-node:workflow": "wf-register" });
    const qc = await clients.lambda.send(new GetFunctionCommand({ FunctionName: lambda1.c }));
    expect(qc.Configuration!.MemorySize).to.equal(3008);
    expect(qc.Configuration!.Timeout).to.equal(900);

    // The deployed machine runs exactly the registered revision on the node's cluster and subnets.
    const deployed = await deployWorkflow({ node, plan, clients });
    const machine = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: deployed.stateMachineArn }));
    const runA = [...readMarkers(JSON.parse(machine.definition!))].find(([, m]) => m.kind === "processor" && m.processorIds[0] === "a")!;
    const params = findState(JSON.parse(machine.definition!), runA[0]).Parameters as Record<string, any>;
    expect(params.TaskDefinition).to.equal(ecs1.a);
    expect(params.Cluster).to.equal(node.clusterArn);
    expect(params.NetworkConfiguration.AwsvpcConfiguration.Subnets).to.deep.equal(node.subnetIds);

    const again = motoClients(moto.endpoint);
    expect(await registerTaskDefinitions({ node, plan, clients: again })).to.deep.equal(ecs1);
    expect(await registerLambdaFunctions({ node, plan, clients: again })).to.deep.equal(lambda1);
    expect(again.mutations.calls).to.deep.equal([]);
  });

  it("registers a new task definition for a changed image and updates a function whose config changed, without duplicates", async () => {
    const node = await motoNode(moto.endpoint, "node-chg");
    const { clients } = moto;
    const first = resolvePlan(workflow, { processors: registrations(), mode: "secure" });
    const ecs1 = await registerTaskDefinitions({ node, plan: first, clients });
    const lambda1 = await registerLambdaFunctions({ node, plan: first, clients });

    const newAlign = "123456789012.dkr.ecr.us-east-1.amazonaws.com/align:2";
    const changedWorkflow = { ...workflow, processors: [{ ...workflow.processors[0], sourceUrl: newAlign }, ...workflow.processors.slice(1)] };
    const regs = registrations(undefined, newAlign);
    regs[2] = { ...regs[2], memory: 2048 };
    const second = resolvePlan(changedWorkflow, { processors: regs, mode: "secure" });
    const after = motoClients(moto.endpoint);
    const ecs2 = await registerTaskDefinitions({ node, plan: second, clients: after });
    const lambda2 = await registerLambdaFunctions({ node, plan: second, clients: after });
    expect(ecs2.a).to.not.equal(ecs1.a);
    const td = (await after.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: ecs2.a }))).taskDefinition!;
    expect(td.containerDefinitions![0].image).to.equal(newAlign);
    expect(lambda2).to.deep.equal(lambda1);
    expect(after.mutations.calls.sort()).to.deep.equal(["ecs:RegisterTaskDefinition", "lambda:TagResource", "lambda:UpdateFunctionConfiguration"]);
    const qc = await after.lambda.send(new GetFunctionCommand({ FunctionName: lambda2.c }));
    expect(qc.Configuration!.MemorySize).to.equal(2048);
    const names = (await after.lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName);
    expect(names).to.have.length(2);

    // A config change in the same family (the node's log group) gets a new revision of that family.
    const moved = { ...node, logGroupName: "/compute-node/other" };
    const ecs3 = await registerTaskDefinitions({ node: moved, plan: second, clients: after });
    expect(ecs3.a.replace(/:\d+$/, "")).to.equal(ecs2.a.replace(/:\d+$/, ""));
    expect(Number(ecs3.a.split(":").pop())).to.equal(Number(ecs2.a.split(":").pop()) + 1);
  });

  it("names functions within Lambda's rule even for long or unusual node ids, without collisions", async () => {
    const long1 = "research-lab-" + "x".repeat(60) + "-one";
    const long2 = "research-lab-" + "x".repeat(60) + "-two";
    const { clients } = moto;
    const names: string[] = [];
    for (const id of [long1, long2, "lab.with.dots/and spaces"]) {
      const node = await motoNode(moto.endpoint, id.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40), { computeNodeId: id });
      const plan = resolvePlan({ name: "w", processors: [{ id: "p", sourceUrl: "img:1" }] }, { processors: [{ sourceUrl: "img:1", computeTypes: ["lambda"] }] });
      const out = await registerLambdaFunctions({ node, plan, clients });
      names.push(out.p.split(":").pop()!);
    }
    for (const name of names) expect(name).to.match(LAMBDA_NAME_PATTERN).and.match(/^proc-lambda-/);
    expect(new Set(names).size).to.equal(3);
  });
});

describe("state machines with children (moto)", function () {
  this.timeout(30000);
  const moto = useMoto();

  it("creates one machine per child, points the main machine at their ARNs, and redeploys with zero mutating calls", async () => {
    const node = await motoNode(moto.endpoint, "node-big");
    const chain = { name: "big", processors: Array.from({ length: 60 }, (_, i) => ({ id: `p${i}`, sourceUrl: `img-${i % 3}:1`, ...(i ? { dependsOn: [`p${i - 1}`] } : {}) })) };
    const plan = resolvePlan(chain, { processors: [0, 1, 2].map((i) => ({ sourceUrl: `img-${i}:1`, computeTypes: ["lambda"] })), mode: "secure" });
    // A small history budget forces the body into child machines.
    const compile = { limits: { historyEvents: 300 } };
    const { clients } = moto;
    const out = await deployWorkflow({ node, plan, clients, compile });
    const children = Object.values(out.childStateMachineArns);
    expect(children).to.have.length.greaterThan(0);
    const creates = clients.mutations.calls.filter((c) => c === "sfn:CreateStateMachine");
    expect(creates).to.have.length(children.length + 1);
    const main = await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: out.stateMachineArn }));
    for (const arn of children) expect(main.definition).to.include(arn);
    for (const arn of children) expect((await clients.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }))).status).to.equal("ACTIVE");
    expect((await deployWorkflow({ node, plan, clients: motoClients(moto.endpoint), compile })).mutatingCalls).to.equal(0);
  });
});
