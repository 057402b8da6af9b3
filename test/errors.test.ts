import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  AwsRuntimeError,
  CompileError,
  ConflictError,
  errorKind,
  FinalizeInputError,
  InternalError,
  JoinConfigError,
  JoinInputError,
  NotFoundError,
  ProcessorFailedError,
  UnavailableError,
  ValidationError,
} from "../lib/errors";
import { exitCodeOf, reportError, CliContext, EXIT } from "../lib/cli/io";
import { toHttpError } from "../provisioner-service/http-errors";
import { toRuntimeError, isAlreadyExists, isClosedTaskToken, isConditionalCheckFailed } from "../lib/runtime/aws/errors";
import { cli } from "./cli/harness";

const capture = (): { ctx: CliContext; out: () => string; err: () => string } => {
  let out = "";
  let err = "";
  return { ctx: { io: { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: process.cwd(), env: {} }, exitCode: 0 }, out: () => out, err: () => err };
};

const compileError = () => new CompileError("limit_exceeded", 'processor "reduce" alone exceeds the per-machine budget', ["reduce"]);
const invalid = () => new ValidationError([{ code: "x", path: ["processors", 0, "cpu"], message: "bad cpu" }]);

describe("what an error means, decided once (errorKind)", () => {
  it("calls the caller's input invalid for a ValidationError and for a CompileError, a workflow that cannot fit Step Functions", () => {
    expect(errorKind(invalid())).to.equal("invalid_input");
    expect(errorKind(compileError())).to.equal("invalid_input");
  });

  it("calls our own bugs and errors nobody threw on purpose internal", () => {
    expect(errorKind(new InternalError("AWS refused the definition"))).to.equal("internal");
    expect(errorKind(new TypeError("x is undefined"))).to.equal("internal");
    expect(errorKind("a string")).to.equal("internal");
    // The local runner's check of what the compiler produced.
    expect(errorKind(new CompileError("invalid_definition", "the compiled main machine is not valid ASL"))).to.equal("internal");
  });

  it("keeps not found, conflicts, a missing tool and failed work apart", () => {
    expect(errorKind(new NotFoundError("no such execution"))).to.equal("not_found");
    expect(errorKind(new ConflictError("busy"))).to.equal("conflict");
    expect(errorKind(new UnavailableError("no pulumi"))).to.equal("unavailable");
    expect(errorKind(new ProcessorFailedError("a", "exit 3", 3))).to.equal("failed");
    expect(errorKind(new AwsRuntimeError("aws_throttle", "Throttled"))).to.equal("failed");
  });
});

describe("the CLI's exit codes and the service's statuses follow the same kinds", () => {
  it("exits 2 for a CompileError from any command, and answers it with HTTP 400", () => {
    const { ctx, err } = capture();
    expect(reportError(compileError(), ctx, { json: false })).to.equal(EXIT.invalid);
    expect(err()).to.equal('cannot compile: processor "reduce" alone exceeds the per-machine budget\n');
    const http = toHttpError(compileError(), "req-1");
    expect(http.status).to.equal(400);
    expect(http.body.error.code).to.equal("limit_exceeded");
    expect(http.body.error.message).to.include('"reduce"');
  });

  it("names the processors of a CompileError in --json output", () => {
    const { ctx, out } = capture();
    reportError(compileError(), ctx, { json: true });
    expect(JSON.parse(out()).error).to.deep.include({ name: "CompileError", code: "limit_exceeded", processorIds: ["reduce"] });
  });

  it("exits 1 for an internal error with a message asking to report it, and answers 500 without showing it", () => {
    const bug = new InternalError("CreateStateMachine failed: InvalidDefinition: SCHEMA_VALIDATION_FAILED");
    const { ctx, err } = capture();
    expect(reportError(bug, ctx, { json: false })).to.equal(EXIT.failed);
    expect(err()).to.match(/^internal error: CreateStateMachine failed/).and.include("please report it");
    const http = toHttpError(bug, "req-2");
    expect(http.status).to.equal(500);
    expect(http.internal).to.equal(true);
    expect(JSON.stringify(http.body)).to.not.include("InvalidDefinition");
  });

  it("gives every kind one exit code", () => {
    expect([invalid(), compileError()].map(exitCodeOf)).to.deep.equal([2, 2]);
    expect([new NotFoundError("n"), new ConflictError("c"), new UnavailableError("u"), new InternalError("i"), new Error("e")].map(exitCodeOf)).to.deep.equal([1, 1, 1, 1, 1]);
  });

  it("exits 2 from a command whose input fails, as from compile", async () => {
    const r = await cli(["graph", "/nonexistent/workflow.json"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^invalid input: /);
  });
});

describe("AWS errors (lib/runtime/aws/errors.ts)", () => {
  const sdk = (name: string) => Object.assign(new Error("detail"), { name, $metadata: { httpStatusCode: 400 } });

  it("makes a state machine definition AWS refused an internal error, never the user's ValidationError", () => {
    const wrapped = toRuntimeError(sdk("InvalidDefinition"), "CreateStateMachine cn-n1-wf");
    expect(wrapped).to.be.instanceOf(InternalError);
    expect(errorKind(wrapped)).to.equal("internal");
    expect(wrapped.message).to.include("CreateStateMachine cn-n1-wf failed: InvalidDefinition").and.include("please report it");
    expect((wrapped as InternalError).cause).to.have.property("name", "InvalidDefinition");
    // Other refused input stays the caller's to fix.
    expect(toRuntimeError(sdk("InvalidParameterValueException"), "CreateFunction")).to.be.instanceOf(ValidationError);
  });

  it("answers questions by the error's name", () => {
    expect(isAlreadyExists(sdk("ResourceExistsException"))).to.equal(true);
    expect(isAlreadyExists(sdk("StateMachineAlreadyExists"))).to.equal(true);
    expect(isAlreadyExists(sdk("ResourceNotFoundException"))).to.equal(false);
    expect(isConditionalCheckFailed(sdk("ConditionalCheckFailedException"))).to.equal(true);
    expect(isClosedTaskToken(sdk("TaskTimedOut"))).to.equal(true);
    expect(isClosedTaskToken(sdk("ThrottlingException"))).to.equal(false);
    expect(isClosedTaskToken(undefined)).to.equal(false);
  });

  it("are the only place in lib/ that compares an AWS error's name", () => {
    const lib = join(__dirname, "..", "lib");
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
    const comparison = /(awsErrorName\([^)]*\)|\.name\)?)\s*(===|!==)\s*"\w*(Exception|DoesNotExist|AlreadyExists|NotFound|InUse|Throttl\w*)"/;
    const offenders = files(lib)
      .filter((f) => relative(lib, f) !== join("runtime", "aws", "errors.ts"))
      .flatMap((f) => readFileSync(f, "utf8").split("\n").flatMap((line, i) => (comparison.test(line) ? [`${relative(lib, f)}:${i + 1}`] : [])));
    expect(offenders).to.deep.equal([]);
  });
});

describe("the Lambda handlers' typed errors", () => {
  it("keep the names the state machines and the contract match on", () => {
    expect(new JoinInputError("join payload: x").name).to.equal("JoinInputError");
    expect(new JoinConfigError("no JOIN_TABLE").name).to.equal("JoinConfigError");
    expect(new FinalizeInputError("finalize payload: x").name).to.equal("FinalizeInputError");
    expect(errorKind(new JoinInputError("x"))).to.equal("failed");
  });
});
