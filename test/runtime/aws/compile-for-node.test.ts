import { expect } from "chai";
import { AslTaskState } from "../../../lib/compile";
import { CompileError } from "../../../lib/errors";
import { NodeOutputs } from "../../../lib/model/node-outputs";
import { compileForNode } from "../../../lib/runtime/aws/executions";
import { Edges, allStates, machines, planOf } from "../../compile/helpers";

const JOIN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-join";

const node = (overrides: Partial<NodeOutputs> = {}): NodeOutputs => ({
  computeNodeId: "n1",
  deploymentMode: "basic",
  region: "us-east-1",
  clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/cn-n1",
  subnetIds: ["subnet-1"],
  securityGroupIds: ["sg-1"],
  efsFileSystemId: "fs-1",
  efsAccessPointArn: "ap",
  taskExecutionRoleArn: "arn:aws:iam::123456789012:role/exec",
  taskRoleArn: "arn:aws:iam::123456789012:role/task",
  stateMachineRoleArn: "arn:aws:iam::123456789012:role/sfn",
  lambdaExecutionRoleArn: "arn:aws:iam::123456789012:role/lambda",
  logGroupName: "/compute-node/n1",
  logArchiveBucket: "b",
  dataTransferFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-data-transfer",
  finalizeFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:cn-n1-finalize",
  ...overrides,
});

// "N" with long outer edges: nested Parallel states make c wait for d or d wait for a, so auto picks exact.
const slowN: Edges = { a: [], b: [], c: ["a", "b"], d: ["b"] };
const hints = { a: 10, b: 1, c: 1, d: 10 };
const taskDefinitions = { a: "cn-n1-a", b: "cn-n1-b", c: "cn-n1-c", d: "cn-n1-d" };

const joinTasks = (compiled: ReturnType<typeof compileForNode>) =>
  machines(compiled)
    .flatMap((m) => allStates(m))
    .map(([, s]) => s)
    .filter((s): s is AslTaskState => s.Type === "Task" && String((s.Parameters?.Payload as { action?: string } | undefined)?.action).startsWith("join-"));

describe("compileForNode", () => {
  it("calls the node's own join function from every join Task when the node has one", () => {
    const compiled = compileForNode(node({ joinFunctionArn: JOIN_ARN, joinTableName: "cn-n1-joins" }), planOf(slowN), taskDefinitions, {}, { hints });
    expect(compiled.stats.strategy).to.equal("exact");
    const tasks = joinTasks(compiled);
    expect(tasks).to.not.be.empty;
    for (const task of tasks) expect(task.Parameters!.FunctionName).to.equal(JOIN_ARN);
  });

  it("compiles without exact mode for a node provisioned before the join function, and refuses to be forced into it", () => {
    const compiled = compileForNode(node(), planOf(slowN), taskDefinitions, {}, { hints });
    expect(compiled.stats.strategy).to.equal("series-parallel");
    expect(joinTasks(compiled)).to.deep.equal([]);
    expect(() => compileForNode(node(), planOf(slowN), taskDefinitions, {}, { structure: "exact" }))
      .to.throw(CompileError)
      .with.property("code", "exact_unavailable");
  });

  it("keeps a caller's exactAvailable: false even when the node has the join function", () => {
    const compiled = compileForNode(node({ joinFunctionArn: JOIN_ARN }), planOf(slowN), taskDefinitions, {}, { hints, exactAvailable: false });
    expect(compiled.stats.strategy).to.equal("series-parallel");
  });
});
