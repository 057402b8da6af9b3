import { expect } from "chai";
import { randomUUID } from "node:crypto";
import { ValidationError, ValidationIssue } from "../../lib/errors";
import { COMPUTE_NODE_ID_PATTERN, WORKFLOW_INSTANCE_ID_PATTERN, assertExecutionIds } from "../../lib/model/ids";
import { NodeOutputsSchema } from "../../lib/model/node-outputs";
import { parseInvocation } from "../../lib/model/validate";
import { parseNodeConfig } from "../../lib/node/config";
import { resolvePlan } from "../../lib/plan/resolve";
import { startWorkflowExecution } from "../../lib/runtime/aws/executions";
import { startLocalExecution } from "../../lib/runtime/local/runner";
import { newExecutionId } from "../../lib/runtime/execution-id";
import type { AwsClients } from "../../lib/runtime/aws/clients";
import type { ExecutionRecordStore } from "../../lib/model/record-store";
import type { NodeOutputs } from "../../lib/model/node-outputs";

const UNSAFE_NODE_IDS = ["../../../x", "a/b c", "..", ".", "", "Node-1", "-x", "x".repeat(40), "a\u0000b", "a_b"];
const UNSAFE_INSTANCE_IDS = ["../x", "a/b", "a b", "", "-x", "_x", "a.b", "x".repeat(81), "wi-1\n"];

const arn = (what: string) => `arn:aws:iam::123456789012:${what}`;
const NODE_OUTPUTS = {
  deploymentMode: "basic",
  region: "us-east-1",
  clusterArn: arn("cluster"),
  subnetIds: ["subnet-1"],
  securityGroupIds: ["sg-1"],
  efsFileSystemId: "fs-1",
  efsAccessPointArn: arn("ap"),
  taskExecutionRoleArn: arn("role/a"),
  taskRoleArn: arn("role/b"),
  stateMachineRoleArn: arn("role/c"),
  lambdaExecutionRoleArn: arn("role/d"),
  logGroupName: "/compute-node/n1",
  logArchiveBucket: "bucket",
  dataTransferFunctionArn: arn("function"),
};

function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  expect.fail("expected a ValidationError");
}

describe("compute node ids", () => {
  it("accept what nodes are provisioned with and platform UUIDs", () => {
    for (const id of ["n1", "local", "node-1", "007", "x".repeat(39), randomUUID()]) expect(COMPUTE_NODE_ID_PATTERN.test(id), id).to.equal(true);
  });

  it("are refused in an invocation when they could climb a path or break a resource name, naming the field", () => {
    for (const computeNodeId of UNSAFE_NODE_IDS) {
      const [issue] = issuesOf(() => parseInvocation({ workflowInstanceConfiguration: { computeNodeId } }));
      expect(issue.path, computeNodeId).to.deep.equal(["invocation", "workflowInstanceConfiguration", "computeNodeId"]);
      expect(issue.message, computeNodeId).to.contain(`${JSON.stringify(computeNodeId)} is not a compute node id: use 1–39 lowercase letters`);
    }
  });

  it("are refused in node outputs and node configuration by the same rule", () => {
    expect(NodeOutputsSchema.parse({ ...NODE_OUTPUTS, computeNodeId: "n1" }).computeNodeId).to.equal("n1");
    for (const computeNodeId of UNSAFE_NODE_IDS) {
      const outputs = NodeOutputsSchema.safeParse({ ...NODE_OUTPUTS, computeNodeId });
      expect(outputs.error?.issues.map((i) => i.path.join(".")), computeNodeId).to.deep.equal(["computeNodeId"]);
      const config = issuesOf(() => parseNodeConfig({ computeNodeId, mode: "basic", region: "us-east-1" }));
      expect(config.map((i) => i.path.join(".")), computeNodeId).to.deep.equal(["config.computeNodeId"]);
    }
  });

  it("reach no local execution directory when the plan's node id is unsafe", () => {
    const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img" }] });
    const [issue] = issuesOf(() => startLocalExecution({ plan: { ...plan, computeNodeId: "../x" }, inputDir: "/nonexistent", workdir: "/nonexistent" }));
    expect(issue.path).to.deep.equal(["invocation", "workflowInstanceConfiguration", "computeNodeId"]);
  });
});

describe("workflow instance ids", () => {
  it("accept what both runtimes generate (one generator, lib/runtime/execution-id.ts) and platform UUIDs", () => {
    for (const id of [newExecutionId(new Date()), newExecutionId(new Date(Date.UTC(2099, 11, 31, 23, 59, 59, 999))), randomUUID(), randomUUID().toUpperCase(), "wi-1", "x".repeat(80)]) expect(WORKFLOW_INSTANCE_ID_PATTERN.test(id), id).to.equal(true);
  });

  it("are refused by the local runner before anything is created, naming the option", () => {
    const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img" }] });
    for (const executionId of UNSAFE_INSTANCE_IDS) {
      const [issue] = issuesOf(() => startLocalExecution({ plan, inputDir: "/nonexistent", workdir: "/nonexistent", executionId }));
      expect(issue.path, executionId).to.deep.equal(["executionId"]);
      expect(issue.message, executionId).to.contain("is not a workflow instance id");
    }
  });

  it("are refused by the AWS runtime before any AWS call, as is an unsafe node id in NODE.json", async () => {
    const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img" }] });
    const noCalls = new Proxy({}, { get: () => expect.fail("no AWS client may be used") }) as AwsClients;
    const store = noCalls as unknown as ExecutionRecordStore;
    const node = { computeNodeId: "n1", deploymentMode: "basic" } as NodeOutputs;
    for (const workflowInstanceId of UNSAFE_INSTANCE_IDS) {
      const err = await startWorkflowExecution({ node, plan, clients: noCalls, store, workflowInstanceId }).catch((e) => e);
      expect(err, workflowInstanceId).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).issues[0].path).to.deep.equal(["workflowInstanceId"]);
    }
    const err = await startWorkflowExecution({ node: { ...node, computeNodeId: "a/b c" }, plan, clients: noCalls, store }).catch((e) => e);
    expect((err as ValidationError).issues.map((i) => i.path)).to.deep.equal([["node", "computeNodeId"]]);
  });

  it("name every bad id at once", () => {
    const issues = issuesOf(() => assertExecutionIds({ computeNodeId: "../x", workflowInstanceId: "a b" }));
    expect(issues.map((i) => i.path)).to.deep.equal([["computeNodeId"], ["workflowInstanceId"]]);
  });
});
