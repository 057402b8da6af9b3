import { expect } from "chai";
import { NodeConfigInput, parseNodeConfig } from "../../lib/node/config";
import { SynthResource, SynthResult, synthNode } from "../../lib/node/synth";
import { stopEventPattern } from "../../lib/node/stop-rule";
import { costAllocationTags } from "../../lib/policy";
import { stateMachineName } from "../../lib/model/names";

const synth = (input: Partial<NodeConfigInput> & { mode: NodeConfigInput["mode"] }) => synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", ...input }));
const ofType = (r: SynthResult, type: string) => r.resources.filter((x) => x.type === type);
const only = (r: SynthResult, type: string): SynthResource => {
  const found = ofType(r, type);
  expect(found, type).to.have.length(1);
  return found[0];
};
const MACHINE_PREFIX = "arn:aws:states:us-east-1:123456789012:stateMachine:cn-n1-";

/** Whether EventBridge's pattern matching (exact values, `prefix`) would deliver `event`: enough of it for this rule's pattern. */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const got = event[key];
    if (Array.isArray(want)) return want.some((w) => (typeof w === "object" && w !== null && "prefix" in w ? typeof got === "string" && got.startsWith((w as { prefix: string }).prefix) : w === got));
    return typeof got === "object" && got !== null && matches(want as Record<string, unknown>, got as Record<string, unknown>);
  });
}
const statusChange = (status: string, stateMachineArn: string) => ({ source: "aws.states", "detail-type": "Step Functions Execution Status Change", detail: { status, stateMachineArn, executionArn: `${stateMachineArn.replace(":stateMachine:", ":execution:")}:wi-1` } });

describe("the node's stop rule (finalize after StopExecution, TIMED_OUT, ABORTED)", function () {
  this.timeout(120000);
  const results: Record<string, SynthResult> = {};
  before(async () => {
    results.basic = await synth({ mode: "basic" });
    results.secure = await synth({ mode: "secure" });
    results.compliant = await synth({ mode: "compliant", enableLLMAccess: true, baaAcknowledged: true });
  });

  for (const mode of ["basic", "secure", "compliant"]) {
    describe(`in ${mode} mode`, () => {
      it("matches ABORTED, TIMED_OUT and FAILED status changes of this node's state machines only", () => {
        const rule = only(results[mode], "aws:cloudwatch/eventRule:EventRule");
        const pattern = JSON.parse(String(rule.inputs.eventPattern)) as Record<string, unknown>;
        expect(pattern).to.deep.equal({
          source: ["aws.states"],
          "detail-type": ["Step Functions Execution Status Change"],
          detail: { status: ["ABORTED", "TIMED_OUT", "FAILED"], stateMachineArn: [{ prefix: MACHINE_PREFIX }] },
        });
        const machine = `arn:aws:states:us-east-1:123456789012:stateMachine:${stateMachineName("n1", "wf")}`;
        for (const status of ["ABORTED", "TIMED_OUT", "FAILED"]) expect(matches(pattern, statusChange(status, machine)), status).to.equal(true);
        expect(matches(pattern, statusChange("SUCCEEDED", machine))).to.equal(false);
        expect(matches(pattern, statusChange("RUNNING", machine))).to.equal(false);
        // Another node's machines, even one whose id starts with this one's, and another account's.
        expect(matches(pattern, statusChange("ABORTED", `arn:aws:states:us-east-1:123456789012:stateMachine:${stateMachineName("n12", "wf")}`))).to.equal(false);
        expect(matches(pattern, statusChange("ABORTED", machine.replace("123456789012", "210987654321")))).to.equal(false);
        expect(rule.inputs.name).to.equal("cn-n1-execution-stopped");
      });

      it("targets the finalize function, which EventBridge may invoke for this rule only", () => {
        const r = results[mode];
        const rule = only(r, "aws:cloudwatch/eventRule:EventRule");
        const target = only(r, "aws:cloudwatch/eventTarget:EventTarget");
        const permission = only(r, "aws:lambda/permission:Permission");
        expect(target.inputs.rule).to.equal("cn-n1-execution-stopped");
        expect(target.inputs.arn).to.equal("arn:aws:lambda:us-east-1:123456789012:function:cn-n1-finalize");
        expect(permission.inputs).to.include({ action: "lambda:InvokeFunction", function: "cn-n1-finalize", principal: "events.amazonaws.com" });
        expect(permission.inputs.sourceArn).to.be.a("string").and.to.match(/cn-n1-execution-stopped$/);
        expect(permission.dependencies).to.include(rule.name);
        // The target is created once the permission exists, so no early event is refused.
        expect(target.dependencies).to.include(permission.name);
      });

      it("tags the rule for cost allocation like the node's other resources", () => {
        const rule = only(results[mode], "aws:cloudwatch/eventRule:EventRule");
        expect(rule.inputs.tags).to.include({ "compute-node:node": "n1", "compute-node:mode": mode });
        expect(costAllocationTags.check(results[mode].resources, mode as "basic")).to.deep.equal([]);
      });

      it("gives finalize what a stopped run needs: this node's executions, its archive prefix, the record write and the data-transfer cleanup, nothing wider", () => {
        const policy = results[mode].resources.find((x) => x.type === "aws:iam/rolePolicy:RolePolicy" && x.name === "cn-n1-finalize-role-policy")!;
        const doc = JSON.parse(String(policy.inputs.policy)) as { Statement: { Sid?: string; Action: string[]; Resource: string | string[]; Condition?: unknown }[] };
        const grant = (action: string) => doc.Statement.filter((s) => s.Action.includes(action)).flatMap((s) => [s.Resource].flat());
        expect(grant("states:DescribeExecution")).to.deep.equal(["arn:aws:states:us-east-1:123456789012:execution:cn-n1-*"]);
        expect(grant("states:GetExecutionHistory")).to.deep.equal(["arn:aws:states:us-east-1:123456789012:execution:cn-n1-*"]);
        expect(grant("dynamodb:PutItem")).to.have.length(1).and.to.match(/table\/cn-n1-executions$/);
        expect(grant("s3:GetObject")).to.have.length(1).and.to.match(/\/executions\/n1\/\*$/);
        // The node's own archive bucket (HeadObject answers 404 only with ListBucket, and carries no prefix a condition could test).
        const archiveObjects = grant("s3:PutObject");
        expect(archiveObjects).to.have.length(1);
        expect(grant("s3:ListBucket")).to.deep.equal([archiveObjects[0].replace(/\/\*$/, "")]);
        // The Cleanup state a stop skipped: the data-transfer function only, which finalize finds in its environment.
        expect(grant("lambda:InvokeFunction")).to.deep.equal(["arn:aws:lambda:us-east-1:123456789012:function:cn-n1-data-transfer"]);
        const finalize = results[mode].resources.find((x) => x.type === "aws:lambda/function:Function" && x.inputs.name === "cn-n1-finalize")!;
        expect((finalize.inputs.environment as { variables: Record<string, string> }).variables).to.include({ COMPUTE_NODE_ID: "n1", DATA_TRANSFER_FUNCTION: "cn-n1-data-transfer" });
        expect(doc.Statement.flatMap((s) => s.Action)).to.not.include.members(["states:StopExecution", "states:StartExecution", "dynamodb:DeleteItem", "s3:DeleteBucket"]);
        expect(doc.Statement.every((s) => !s.Action.includes("*"))).to.equal(true);
      });
    });
  }

  it("renders a prefix match on the state machine ARN, which EventBridge needs as an object", () => {
    expect(stopEventPattern("arn:aws-cn:states:cn-north-1:1:stateMachine:cn-x-")).to.deep.include({ detail: { status: ["ABORTED", "TIMED_OUT", "FAILED"], stateMachineArn: [{ prefix: "arn:aws-cn:states:cn-north-1:1:stateMachine:cn-x-" }] } });
  });
});
