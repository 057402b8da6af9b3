import { expect } from "chai";
import { taskDefinitionInput } from "../../../lib/runtime/aws/register-ecs";
import { resolvePlan } from "../../../lib/plan/resolve";
import { NodeOutputs } from "../../../lib/model/node-outputs";

const node = {
  computeNodeId: "n1", deploymentMode: "secure", region: "eu-west-1", clusterArn: "c", subnetIds: ["subnet-a"], securityGroupIds: ["sg-1"],
  efsFileSystemId: "fs-1", efsAccessPointArn: "arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-42", taskExecutionRoleArn: "arn:aws:iam::123456789012:role/exec",
  taskRoleArn: "arn:aws:iam::123456789012:role/task", stateMachineRoleArn: "arn:aws:iam::123456789012:role/sfn", lambdaExecutionRoleArn: "arn:aws:iam::123456789012:role/lambda",
  logGroupName: "/cn/n1", logArchiveBucket: "b", dataTransferFunctionArn: "d",
} as NodeOutputs;

const plan = resolvePlan(
  { name: "w", processors: [{ id: "cpu", sourceUrl: "img-cpu:1" }, { id: "gpu", sourceUrl: "img-gpu:1", dependsOn: ["cpu"] }] },
  {
    processors: [
      { sourceUrl: "img-cpu:1", computeTypes: ["ecs"], cpu: 2, memory: 8192, ephemeralStorage: 50, commandArguments: ["--fast"] },
      { sourceUrl: "img-gpu:1", computeTypes: ["ecs"], cpu: 4, memory: 16384, ephemeralStorage: 50, gpu: 1 },
    ],
    mode: "secure",
  },
);
const byId = (id: string) => plan.processors.find((p) => p.id === id)!;

describe("taskDefinitionInput", () => {
  it("describes a Fargate task with the processor's size, the node's roles, EFS through its access point and logs to its group", () => {
    const input = taskDefinitionInput(node, byId("cpu"));
    expect(input).to.deep.include({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "2048", memory: "8192", executionRoleArn: node.taskExecutionRoleArn, taskRoleArn: node.taskRoleArn, ephemeralStorage: { sizeInGiB: 50 } });
    expect(input.volumes).to.deep.equal([{ name: "efs", efsVolumeConfiguration: { fileSystemId: "fs-1", transitEncryption: "ENABLED", authorizationConfig: { accessPointId: "fsap-42", iam: "ENABLED" } } }]);
    const container = input.containerDefinitions![0];
    expect(container).to.deep.include({ image: "img-cpu:1", essential: true, command: ["--fast"], mountPoints: [{ sourceVolume: "efs", containerPath: "/mnt/efs", readOnly: false }] });
    expect(container.logConfiguration).to.deep.equal({ logDriver: "awslogs", options: { "awslogs-group": "/cn/n1", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "processor" } });
    expect(container.environment!.map((e) => e.name)).to.have.members(["PENNSIEVE_API_HOST", "PENNSIEVE_API_HOST2", "ENVIRONMENT", "REGION", "DEPLOYMENT_MODE"]);
    expect(container.resourceRequirements).to.equal(undefined);
  });

  it("puts a GPU processor on EC2 capacity, which Fargate lacks, without the Fargate-only storage setting", () => {
    const input = taskDefinitionInput(node, byId("gpu"));
    expect(input.requiresCompatibilities).to.deep.equal(["EC2"]);
    expect(input.ephemeralStorage).to.equal(undefined);
    expect(input.containerDefinitions![0].resourceRequirements).to.deep.equal([{ type: "GPU", value: "1" }]);
    expect(input.family).to.not.equal(taskDefinitionInput(node, byId("cpu")).family);
  });
});
