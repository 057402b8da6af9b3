import { expect } from "chai";
import { lambdaFunctionSpecs, registerLambdaFunctions } from "../../../lib/runtime/aws/register-lambda";
import { TAG_FINGERPRINT, fingerprintOf } from "../../../lib/runtime/aws/register-ecs";
import { isMutatingCommand } from "../../../lib/runtime/aws/clients";
import { workflowUseTag } from "../../../lib/runtime/aws/node";
import { createRateLimits } from "../../../lib/runtime/aws/rate-limit";
import { resolvePlan } from "../../../lib/plan/resolve";
import { NodeOutputs } from "../../../lib/model/node-outputs";
import { ValidationError } from "../../../lib/errors";

const node = {
  computeNodeId: "n1", deploymentMode: "secure", region: "us-east-1", clusterArn: "c", subnetIds: ["subnet-a"], securityGroupIds: ["sg-1"],
  efsFileSystemId: "fs-1", efsAccessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1", taskExecutionRoleArn: "e", taskRoleArn: "t",
  stateMachineRoleArn: "arn:aws:iam::123456789012:role/sfn", lambdaExecutionRoleArn: "arn:aws:iam::123456789012:role/lambda", logGroupName: "/cn/n1", logArchiveBucket: "b",
  dataTransferFunctionArn: "d",
} as NodeOutputs;

describe("registerLambdaFunctions when Lambda rejects a function", () => {
  it("names every processor of the rejected image and its sourceUrl, keeping Lambda's error as cause", async () => {
    const lambda = {
      send: async (command: { constructor: { name: string }; input: { FunctionName?: string; Code?: { ImageUri?: string } } }) => {
        const name = command.constructor.name.replace(/Command$/, "");
        if (name === "GetFunction") throw Object.assign(new Error("Function not found"), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
        if (name === "CreateFunction" && !command.input.Code?.ImageUri?.includes(".dkr.ecr."))
          throw Object.assign(new Error("Source image ghcr.io/org/tool:1 is not valid"), { name: "InvalidParameterValueException", $metadata: { httpStatusCode: 400 } });
        return { FunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${command.input.FunctionName}`, State: "Active" };
      },
    };
    const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ok:1";
    const plan = resolvePlan(
      { name: "w", processors: [{ id: "ok", sourceUrl: ecr }, { id: "t1", sourceUrl: "ghcr.io/org/tool:1", dependsOn: ["ok"] }, { id: "t2", sourceUrl: "ghcr.io/org/tool:1", dependsOn: ["ok"] }] },
      { processors: [{ sourceUrl: ecr, computeTypes: ["lambda"] }, { sourceUrl: "ghcr.io/org/tool:1", computeTypes: ["lambda"] }], mode: "secure" },
    );
    const clients = { lambda, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as never;
    const err = await registerLambdaFunctions({ node, plan, clients }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ValidationError);
    const issues = (err as ValidationError).issues;
    expect(issues.map((i) => i.processorId)).to.deep.equal(["t1", "t2"]);
    expect(issues.map((i) => i.path)).to.deep.equal([["workflow", "processors", 1, "sourceUrl"], ["workflow", "processors", 2, "sourceUrl"]]);
    expect(issues[0].message).to.include("ghcr.io/org/tool:1").and.include("InvalidParameterValueException");
    expect(((err as ValidationError).cause as Error).name).to.equal("InvalidParameterValueException");
  });
});

describe("registerLambdaFunctions adopting a function an interrupted attempt created", () => {
  it("waits until the matching function is no longer Pending before handing it out, without changing it", async () => {
    const plan = resolvePlan({ name: "w", processors: [{ id: "p", sourceUrl: "img:1" }] }, { processors: [{ sourceUrl: "img:1", computeTypes: ["lambda"] }], mode: "secure" });
    const { spec } = [...lambdaFunctionSpecs(node, plan.processors).values()][0];
    const arn = `arn:aws:lambda:us-east-1:123456789012:function:${spec.name}`;
    const configuration = (State: string) => ({
      FunctionName: spec.name, FunctionArn: arn, State, Role: spec.role, MemorySize: spec.memory, Timeout: spec.timeout,
      VpcConfig: { SubnetIds: spec.subnetIds, SecurityGroupIds: spec.securityGroupIds },
      FileSystemConfigs: [{ Arn: spec.accessPointArn, LocalMountPath: "/mnt/efs" }],
      Environment: { Variables: spec.environment },
      LoggingConfig: { LogFormat: "Text", LogGroup: node.logGroupName },
    });
    const sent: string[] = [];
    const states = ["Pending", "Active"];
    const lambda = {
      send: async (command: { constructor: { name: string } }) => {
        const name = command.constructor.name.replace(/Command$/, "");
        sent.push(name);
        if (name === "GetFunction") return { Configuration: configuration("Pending"), Code: { ImageUri: "img:1" }, Tags: { [TAG_FINGERPRINT]: fingerprintOf(spec), "compute-node:node": "n1", "compute-node:environment": "dev", "compute-node:workflow": "w", [workflowUseTag("w")]: "w" } };
        if (name === "GetFunctionConfiguration") return configuration(states.shift() ?? "Active");
        throw new Error(`unexpected ${name}`);
      },
    };
    const clients = { lambda, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as never;
    const out = await registerLambdaFunctions({ node, plan, clients });
    expect(out.p).to.equal(arn);
    expect(sent.filter((n) => n === "GetFunctionConfiguration")).to.have.length(2);
    expect(sent.filter((n) => isMutatingCommand(n))).to.deep.equal([]);
  });
});
