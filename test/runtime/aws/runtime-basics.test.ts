import { expect } from "chai";
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { createAwsClients, isMutatingCommand } from "../../../lib/runtime/aws/clients";
import { classifyAwsError, toRuntimeError } from "../../../lib/runtime/aws/errors";
import { createRateLimits } from "../../../lib/runtime/aws/rate-limit";
import { registerLambdaFunctions } from "../../../lib/runtime/aws/register-lambda";
import { resolvePlan } from "../../../lib/plan/resolve";
import { AwsRuntimeError, ConflictError, NotFoundError, ValidationError } from "../../../lib/errors";
import { NodeOutputs } from "../../../lib/model/node-outputs";

const awsError = (name: string, status = 400) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

describe("AWS error classification", () => {
  it("classifies SDK errors by name, falling back to the HTTP status", () => {
    expect(classifyAwsError(awsError("ThrottlingException"))).to.equal("throttle");
    expect(classifyAwsError(awsError("TooManyRequestsException", 429))).to.equal("throttle");
    expect(classifyAwsError(awsError("ResourceNotFoundException", 404))).to.equal("not_found");
    expect(classifyAwsError(awsError("StateMachineAlreadyExists"))).to.equal("conflict");
    expect(classifyAwsError(awsError("SomethingNew", 503))).to.equal("transient");
    expect(classifyAwsError(awsError("SomethingNew", 400))).to.equal("other");
  });

  it("wraps once, keeping the SDK error as cause", () => {
    const cause = awsError("ResourceNotFoundException", 404);
    const wrapped = toRuntimeError(cause, "GetFunction f");
    expect(wrapped).to.be.instanceOf(NotFoundError);
    expect((wrapped as NotFoundError).cause).to.equal(cause);
    expect(toRuntimeError(awsError("ResourceConflictException", 409), "x")).to.be.instanceOf(ConflictError);
    expect(toRuntimeError(awsError("InvalidParameterValueException"), "x")).to.be.instanceOf(ValidationError);
    expect((toRuntimeError(awsError("ServiceException", 500), "x") as AwsRuntimeError).code).to.equal("aws_transient");
  });
});

describe("createRateLimits", () => {
  it("spaces calls of one operation to its budget while other operations proceed", async () => {
    const limits = createRateLimits({ rates: { "sfn:CreateStateMachine": 10 } });
    const times: Record<string, number[]> = { create: [], history: [] };
    const start = Date.now();
    await Promise.all([
      ...[1, 2, 3].map(() => limits.run("sfn:CreateStateMachine", async () => void times.create.push(Date.now() - start))),
      ...[1, 2, 3].map(() => limits.run("sfn:GetExecutionHistory", async () => void times.history.push(Date.now() - start))),
    ]);
    expect(times.create[2] - times.create[0]).to.be.at.least(180);
    expect(Math.max(...times.history)).to.be.below(times.create[2]);
  });

  it("retries throttled calls with backoff and gives up on other errors at once", async () => {
    const limits = createRateLimits({ baseDelayMs: 1 });
    let attempts = 0;
    const value = await limits.run("ecs:RunTask", async () => {
      if (++attempts < 3) throw awsError("ThrottlingException");
      return "ok";
    });
    expect([value, attempts]).to.deep.equal(["ok", 3]);
    let other = 0;
    const err = await limits.run("ecs:RunTask", async () => {
      other++;
      throw awsError("AccessDeniedException");
    }).catch((e) => e);
    expect([err.name, other]).to.deep.equal(["AccessDeniedException", 1]);
  });
});

describe("createAwsClients", () => {
  it("counts mutating commands sent through any client, not reads", async () => {
    // Nothing listens on port 9: every call fails fast, but the middleware has already seen it.
    const clients = createAwsClients({ region: "us-east-1", endpoint: "http://127.0.0.1:9" });
    await clients.lambda.send(new GetFunctionCommand({ FunctionName: "f" })).catch(() => undefined);
    await clients.lambda.send(new CreateFunctionCommand({ FunctionName: "f", Role: "r", Code: {} })).catch(() => undefined);
    expect(clients.mutations.calls).to.deep.equal(["lambda:CreateFunction"]);
  });

  it("takes its endpoint from AWS_ENDPOINT_URL when none is given", async () => {
    const clients = createAwsClients({ region: "eu-west-1", env: { AWS_ENDPOINT_URL: "http://127.0.0.1:4566" } });
    const endpoint = await (clients.lambda as LambdaClient).config.endpoint!();
    expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).to.equal("http://127.0.0.1:4566");
  });

  it("classifies command names as mutating or not", () => {
    for (const name of ["CreateFunction", "RegisterTaskDefinition", "UpdateStateMachine", "PutSecretValue", "DeleteFunction", "DeregisterTaskDefinition", "StartExecution", "TagResource", "UntagResource"])
      expect(isMutatingCommand(name), name).to.equal(true);
    for (const name of ["GetFunction", "DescribeTaskDefinition", "ListStateMachines", "GetExecutionHistory"]) expect(isMutatingCommand(name), name).to.equal(false);
  });
});

describe("registerLambdaFunctions", () => {
  it("creates image functions with VPC config, the EFS access point at /mnt/efs and the seed's static environment", async () => {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const lambda = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const name = command.constructor.name.replace(/Command$/, "");
        sent.push({ name, input: command.input });
        if (name === "GetFunction") throw Object.assign(new Error("nope"), { name: "ResourceNotFoundException" });
        return { FunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${command.input.FunctionName}`, State: "Active" };
      },
    };
    const node = {
      computeNodeId: "n1", deploymentMode: "secure", region: "us-east-1", clusterArn: "c", subnetIds: ["subnet-b", "subnet-a"], securityGroupIds: ["sg-1"],
      efsFileSystemId: "fs-1", efsAccessPointArn: "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1", taskExecutionRoleArn: "e", taskRoleArn: "t",
      stateMachineRoleArn: "arn:aws:iam::123456789012:role/sfn", lambdaExecutionRoleArn: "arn:aws:iam::123456789012:role/lambda", logGroupName: "/cn/n1", logArchiveBucket: "b",
      dataTransferFunctionArn: "d", environment: "prod", pennsieveApiHost: "https://api.example", pennsieveApiHost2: "https://api2.example",
    } as NodeOutputs;
    const plan = resolvePlan({ name: "w", processors: [{ id: "p", sourceUrl: "img:1" }, { id: "q", sourceUrl: "img:1", dependsOn: ["p"] }] }, {
      processors: [{ sourceUrl: "img:1", computeTypes: ["lambda"], memory: 512, timeout: 60 }],
      mode: "secure",
    });
    const clients = { lambda, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as never;
    const out = await registerLambdaFunctions({ node, plan, clients });
    const creates = sent.filter((c) => c.name === "CreateFunction");
    expect(creates).to.have.length(1);
    expect(out.p).to.equal(out.q);
    expect(creates[0].input).to.deep.include({
      PackageType: "Image",
      Code: { ImageUri: "img:1" },
      Role: node.lambdaExecutionRoleArn,
      MemorySize: 512,
      Timeout: 60,
      VpcConfig: { SubnetIds: ["subnet-a", "subnet-b"], SecurityGroupIds: ["sg-1"] },
      FileSystemConfigs: [{ Arn: node.efsAccessPointArn, LocalMountPath: "/mnt/efs" }],
      LoggingConfig: { LogFormat: "Text", LogGroup: "/cn/n1" },
      Environment: { Variables: { PENNSIEVE_API_HOST: "https://api.example", PENNSIEVE_API_HOST2: "https://api2.example", ENVIRONMENT: "prod", REGION: "us-east-1", DEPLOYMENT_MODE: "secure" } },
    });
  });
});
