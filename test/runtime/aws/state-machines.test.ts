import { expect } from "chai";
import { deployStateMachines, loggingConfiguration, workflowMachineArns } from "../../../lib/runtime/aws/state-machines";
import { createRateLimits } from "../../../lib/runtime/aws/rate-limit";
import { AwsClients, isMutatingCommand } from "../../../lib/runtime/aws/clients";
import { compileWorkflow } from "../../../lib/compile";
import { resolvePlan } from "../../../lib/plan/resolve";
import { NodeOutputs } from "../../../lib/model/node-outputs";
import { ValidationError } from "../../../lib/errors";

const node = (stateMachineRoleArn: string, region: string): NodeOutputs => ({
  computeNodeId: "gov-node",
  deploymentMode: "secure",
  region,
  clusterArn: "c",
  subnetIds: ["subnet-1"],
  securityGroupIds: ["sg-1"],
  efsFileSystemId: "fs-1",
  efsAccessPointArn: "ap",
  taskExecutionRoleArn: "r",
  taskRoleArn: "r",
  stateMachineRoleArn,
  lambdaExecutionRoleArn: "r",
  logGroupName: "/compute-node/gov-node",
  logArchiveBucket: "b",
  dataTransferFunctionArn: "f",
});

describe("workflowMachineArns and loggingConfiguration", () => {
  it("build ARNs in the node's own partition and account, as its roles have them", () => {
    const gov = node("arn:aws-us-gov:iam::111122223333:role/sfn", "us-gov-west-1");
    const arns = workflowMachineArns(gov, "wf", ["part1"]);
    expect(arns.main).to.match(/^arn:aws-us-gov:states:us-gov-west-1:111122223333:stateMachine:cn-gov-node-wf-[0-9a-f]{8}$/);
    expect(arns.children.part1).to.match(/^arn:aws-us-gov:states:us-gov-west-1:111122223333:stateMachine:.*-part1$/);
    expect(loggingConfiguration(gov).destinations![0].cloudWatchLogsLogGroup!.logGroupArn).to.equal("arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:/compute-node/gov-node:*");
    expect(workflowMachineArns(node("arn:aws:iam::123456789012:role/sfn", "us-east-1"), "wf", []).main).to.match(/^arn:aws:states:us-east-1:123456789012:/);
  });

  it("log errors only, never execution data (token states' inputs and outputs)", () => {
    const logging = loggingConfiguration(node("arn:aws:iam::123456789012:role/sfn", "us-east-1"));
    expect(logging).to.deep.include({ level: "ERROR", includeExecutionData: false });
  });

  it("refuse a state machine role that is not an IAM role ARN, naming the key", () => {
    const err = (() => {
      try {
        workflowMachineArns(node("sfn-role", "us-east-1"), "wf", []);
      } catch (e) {
        return e;
      }
    })() as ValidationError;
    expect(err).to.be.instanceOf(ValidationError);
    expect(err.issues[0].path).to.deep.equal(["node", "stateMachineRoleArn"]);
  });
});

/** Step Functions' machines, revisions and versions, as far as a deploy sees them. */
function fakeStepFunctions() {
  const machines = new Map<string, { definition: string; revision: number; versions: Map<number, number> }>();
  const calls: string[] = [];
  const versionArn = (arn: string, revision: number) => {
    const m = machines.get(arn)!;
    if (!m.versions.has(revision)) m.versions.set(revision, m.versions.size + 1);
    return `${arn}:${m.versions.get(revision)}`;
  };
  const sfn = {
    send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      const name = command.constructor.name.replace(/Command$/, "");
      calls.push(name);
      const input = command.input;
      switch (name) {
        case "DescribeStateMachine": {
          const [, base, number] = /^(.*?)(?::(\d+))?$/.exec(input.stateMachineArn)!;
          const m = machines.get(base);
          if (!m) throw Object.assign(new Error("no machine"), { name: "StateMachineDoesNotExist" });
          if (number === undefined) return { definition: m.definition, roleArn: ROLE, revisionId: String(m.revision) };
          const revision = [...m.versions].find(([, n]) => n === Number(number))?.[0];
          if (revision === undefined) throw Object.assign(new Error("no version"), { name: "StateMachineDoesNotExist" });
          return { roleArn: ROLE, revisionId: String(revision) };
        }
        case "CreateStateMachine": {
          const arn = `arn:aws:states:us-east-1:123456789012:stateMachine:${input.name}`;
          machines.set(arn, { definition: input.definition, revision: 1, versions: new Map() });
          return { stateMachineArn: arn, ...(input.publish ? { stateMachineVersionArn: versionArn(arn, 1) } : {}) };
        }
        case "UpdateStateMachine": {
          const m = machines.get(input.stateMachineArn)!;
          m.definition = input.definition;
          m.revision++;
          return { ...(input.publish ? { stateMachineVersionArn: versionArn(input.stateMachineArn, m.revision) } : {}) };
        }
        case "TagResource":
          return {};
        case "PublishStateMachineVersion":
          return { stateMachineVersionArn: versionArn(input.stateMachineArn, Number(input.revisionId ?? machines.get(input.stateMachineArn)!.revision)) };
        case "ListStateMachineVersions": {
          const numbers = [...machines.get(input.stateMachineArn)!.versions.values()].sort((a, b) => b - a);
          return { stateMachineVersions: numbers.slice(0, input.maxResults ?? 1000).map((n) => ({ stateMachineVersionArn: `${input.stateMachineArn}:${n}` })) };
        }
      }
      throw new Error(`unexpected ${name}`);
    },
  };
  return { sfn, machines, calls };
}

const ROLE = "arn:aws:iam::123456789012:role/sfn";

describe("deployStateMachines", () => {
  const plan = (marker: string) =>
    resolvePlan({ name: "wf", processors: Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, sourceUrl: `img-${i % 3}-${marker}:1`, dependsOn: i >= 3 ? [`p${i - 3}`] : [] })) });
  // Child starts name the node's machines, as compileForNode compiles them.
  const compiled = (marker: string) => {
    const options = { limits: { definitionBytes: 40_000 }, structure: "series-parallel" as const, scheduleEffort: 0.05 };
    const first = compileWorkflow(plan(marker), { ...options, target: { computeNodeId: "gov-node" } });
    const childStateMachineArns = workflowMachineArns(node(ROLE, "us-east-1"), "wf", Object.keys(first.children)).children;
    return compileWorkflow(plan(marker), { ...options, target: { computeNodeId: "gov-node", childStateMachineArns } });
  };
  const deploy = (sfn: unknown, c: ReturnType<typeof compiled>, stateMachineVersions = true) =>
    deployStateMachines({ node: node(ROLE, "us-east-1"), workflowName: "wf", definition: c.definition, children: c.children, clients: { sfn, limits: createRateLimits({ rates: { "sfn:CreateStateMachine": 1000, "sfn:UpdateStateMachine": 1000 } }), mutations: { calls: [] }, region: "us-east-1", stateMachineVersions } as unknown as AwsClients });
  const childStarts = (definition: string) => [...definition.matchAll(/"StateMachineArn":"([^"]+)"/g)].map((m) => m[1]);

  it("starts the version it just published, and points every child start at the child's published version", async () => {
    const fake = fakeStepFunctions();
    const first = compiled("a");
    expect(Object.keys(first.children).length).to.be.greaterThan(1);
    const out = await deploy(fake.sfn, first);
    expect(out.startArn).to.equal(`${out.stateMachineArn}:1`);
    const main = fake.machines.get(out.stateMachineArn)!.definition;
    for (const arn of [main, ...Object.values(out.childStateMachineArns).map((a) => fake.machines.get(a)!.definition)].flatMap(childStarts)) expect(arn).to.match(/:stateMachine:[^:]+:1$/);
  });

  it("publishes nothing new for an unchanged workflow, and new versions of what changed and of the machines that start it", async () => {
    const fake = fakeStepFunctions();
    const first = await deploy(fake.sfn, compiled("a"));
    fake.calls.length = 0;
    const again = await deploy(fake.sfn, compiled("a"));
    expect(again.startArn).to.equal(first.startArn);
    expect(fake.calls.filter((c) => isMutatingCommand(c))).to.deep.equal([]);
    const changed = await deploy(fake.sfn, compiled("b"));
    expect(changed.startArn).to.equal(`${first.stateMachineArn}:2`);
    expect(childStarts(fake.machines.get(changed.stateMachineArn)!.definition).every((arn) => arn.endsWith(":2"))).to.equal(true);
  });

  it("publishes a version for a machine deployed before versions, and starts it", async () => {
    const fake = fakeStepFunctions();
    const c = compiled("a");
    await deploy(fake.sfn, c, false);
    const out = await deploy(fake.sfn, c);
    expect(out.startArn).to.equal(`${out.stateMachineArn}:1`);
    // Children are unchanged and get a version published; the main machine changes (its child starts now name versions).
    expect(fake.calls.filter((x) => x === "PublishStateMachineVersion").length).to.equal(Object.keys(c.children).length);
    expect(childStarts(fake.machines.get(out.stateMachineArn)!.definition).every((arn) => arn.endsWith(":1"))).to.equal(true);
  });

  it("starts the machine itself where the endpoint has no versions", async () => {
    const fake = fakeStepFunctions();
    const out = await deploy(fake.sfn, compiled("a"), false);
    expect(out.startArn).to.equal(out.stateMachineArn);
    expect(childStarts(fake.machines.get(out.stateMachineArn)!.definition)).to.have.members(Object.values(out.childStateMachineArns));
  });
});
