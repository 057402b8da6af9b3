import { expect } from "chai";
import { createServer, IncomingMessage, Server } from "node:http";
import { AddressInfo } from "node:net";
import { ListStateMachinesCommand, CreateStateMachineCommand } from "@aws-sdk/client-sfn";
import { createAwsClients } from "../../../lib/runtime/aws/clients";
import { classifyAwsError, toRuntimeError } from "../../../lib/runtime/aws/errors";
import { AwsRuntimeError, ConflictError, NotFoundError, ValidationError } from "../../../lib/errors";

/** A local HTTP endpoint that answers every request with `status` and remembers what it was asked. */
async function endpointAnswering(status: number, body: object, host = "127.0.0.1") {
  const requests: { target?: string; authorization?: string }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on("end", () => {
      requests.push({ target: req.headers["x-amz-target"] as string | undefined, authorization: req.headers.authorization });
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("createAwsClients", () => {
  it("sends to AWS_ENDPOINT_URL with dummy credentials and counts only mutating calls", async () => {
    const endpoint = await endpointAnswering(200, { stateMachines: [], stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:m", creationDate: 0 });
    try {
      const clients = createAwsClients({ region: "us-east-1", env: { AWS_ENDPOINT_URL: endpoint.url } });
      await clients.sfn.send(new ListStateMachinesCommand({}));
      await clients.sfn.send(new CreateStateMachineCommand({ name: "m", definition: "{}", roleArn: "arn:aws:iam::123456789012:role/r" }));
      expect(endpoint.requests.map((r) => r.target)).to.deep.equal(["AWSStepFunctions.ListStateMachines", "AWSStepFunctions.CreateStateMachine"]);
      expect(endpoint.requests[0].authorization).to.match(/Credential=test\//);
      expect(clients.mutations.calls).to.deep.equal(["sfn:CreateStateMachine"]);
    } finally {
      await endpoint.close();
    }
  });

  it("makes a single attempt against a local endpoint, so tests see moto's answer at once", async () => {
    const endpoint = await endpointAnswering(500, { __type: "InternalFailure", message: "boom" });
    try {
      const clients = createAwsClients({ region: "us-east-1", endpoint: endpoint.url });
      const err = await clients.sfn.send(new ListStateMachinesCommand({})).then(() => undefined, (e: Error) => e);
      expect(err?.name).to.equal("InternalFailure");
      expect(endpoint.requests).to.have.length(1);
    } finally {
      await endpoint.close();
    }
  });

  it("retries a server error from a non-local endpoint up to maxAttempts, counting the mutating call once", async () => {
    // 127.0.0.2 is loopback on Linux but not one of the names treated as a local AWS endpoint.
    const endpoint = await endpointAnswering(503, { __type: "ServiceUnavailable", message: "later" }, "127.0.0.2");
    try {
      const clients = createAwsClients({ region: "us-east-1", endpoint: endpoint.url, maxAttempts: 3, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } });
      const err = await clients.sfn
        .send(new CreateStateMachineCommand({ name: "m", definition: "{}", roleArn: "arn:aws:iam::123456789012:role/r" }))
        .then(() => undefined, (e: Error) => e);
      expect(err?.name).to.equal("ServiceUnavailable");
      expect(endpoint.requests).to.have.length(3);
      expect(clients.mutations.calls).to.deep.equal(["sfn:CreateStateMachine"]);
    } finally {
      await endpoint.close();
    }
  });
});

describe("classifyAwsError", () => {
  const named = (name: string, httpStatusCode?: number) => Object.assign(new Error("text that must not matter"), { name, $metadata: { httpStatusCode } });

  it("classifies by the error's name, whatever its message says", () => {
    expect(classifyAwsError(named("ThrottlingException", 400))).to.equal("throttle");
    expect(classifyAwsError(named("TooManyRequestsException", 429))).to.equal("throttle");
    expect(classifyAwsError(named("StateMachineDoesNotExist", 400))).to.equal("not_found");
    expect(classifyAwsError(named("ResourceConflictException", 409))).to.equal("conflict");
    expect(classifyAwsError(named("InvalidDefinition", 400))).to.equal("invalid");
    expect(classifyAwsError(named("AccessDeniedException", 400))).to.equal("access");
    expect(classifyAwsError(Object.assign(new Error("Rate exceeded"), { name: "SomethingElse" }))).to.equal("other");
  });

  it("falls back to the HTTP status for names it does not know", () => {
    expect(classifyAwsError(named("Weird", 429))).to.equal("throttle");
    expect(classifyAwsError(named("Weird", 404))).to.equal("not_found");
    expect(classifyAwsError(named("Weird", 502))).to.equal("transient");
    expect(classifyAwsError("not an error")).to.equal("other");
  });
});

describe("toRuntimeError", () => {
  it("wraps each kind in the error class its caller acts on, keeping the SDK error as cause", () => {
    const cases: [string, new (...args: never[]) => Error][] = [
      ["ResourceNotFoundException", NotFoundError],
      ["ResourceConflictException", ConflictError],
      ["InvalidParameterValueException", ValidationError],
      ["ThrottlingException", AwsRuntimeError],
    ];
    for (const [name, cls] of cases) {
      const sdk = Object.assign(new Error("detail"), { name });
      const wrapped = toRuntimeError(sdk, "CreateFunction proc-lambda-n-1");
      expect(wrapped, name).to.be.instanceOf(cls);
      expect(wrapped.cause, name).to.equal(sdk);
      expect(wrapped.message, name).to.include("CreateFunction proc-lambda-n-1").and.include(name);
    }
    expect((toRuntimeError(Object.assign(new Error("x"), { name: "ThrottlingException" }), "op") as AwsRuntimeError).code).to.equal("aws_throttle");
  });
});
