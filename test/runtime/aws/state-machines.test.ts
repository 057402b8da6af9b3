import { expect } from "chai";
import { loggingConfiguration, workflowMachineArns } from "../../../lib/runtime/aws/state-machines";
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
