import { expect } from "chai";
import { UnavailableError, ValidationError } from "../../lib/errors";
import { defaultNodeProgram, nodeConfigInput } from "../../lib/provision/node-program";
import { NodeSpec } from "../../lib/provision/stack-engine";

const spec: NodeSpec = { id: "lab-1", mode: "secure", region: "eu-west-1", options: { maxVcpus: 8 } };

describe("defaultNodeProgram", () => {
  it("builds the program from the node config the spec maps to, loading each lib/node module once", () => {
    let loads = 0;
    const configs: unknown[] = [];
    const source = defaultNodeProgram({
      config: () => (loads++, (v) => v),
      program: () => (loads++, (config: never) => (configs.push(config), async () => ({}))),
    });
    source.program(spec);
    source.validate(spec);
    expect(loads).to.equal(2);
    expect(configs).to.deep.equal([nodeConfigInput(spec)]);
    expect(nodeConfigInput(spec)).to.deep.equal({ maxVcpus: 8, computeNodeId: "lab-1", mode: "secure", region: "eu-west-1" });
  });

  it("reports the node config's issues under body.options", () => {
    const source = defaultNodeProgram({
      program: () => () => async () => ({}),
      config: () => () => {
        throw new ValidationError([
          { code: "too_big", path: ["maxVcpus"], message: "at most 4" },
          { code: "invalid_format", path: ["region"], message: "must be an AWS region" },
        ]);
      },
    });
    const err = (() => {
      try {
        source.validate(spec);
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err).to.be.instanceOf(ValidationError);
    expect(err!.issues.map((i) => i.path)).to.deep.equal([["body", "options", "maxVcpus"], ["body", "region"]]);
  });

  it("answers UnavailableError when lib/node cannot be loaded", () => {
    const source = defaultNodeProgram({
      config: () => (v) => v,
      program: () => {
        throw new UnavailableError("the compute node program (lib/node/program.ts) could not be loaded");
      },
    });
    expect(() => source.program(spec)).to.throw(UnavailableError);
    expect(() => source.ensureLoaded()).to.throw(UnavailableError);
    expect(() => source.validate(spec)).to.not.throw();
  });
});

describe("defaultNodeProgram with lib/node", () => {
  it("validates node options with the real node config schema", () => {
    const source = defaultNodeProgram();
    source.validate({ id: "lab-1", mode: "basic", region: "us-east-1", options: {} });
    let err: ValidationError | undefined;
    try {
      source.validate({ id: "lab-1", mode: "basic", region: "us-east-1", options: { vpcCidr: "10.0.0.0/8", bogus: true } });
    } catch (e) {
      err = e as ValidationError;
    }
    expect(err).to.be.instanceOf(ValidationError);
    const fields = err!.issues.map((i) => i.path.join("."));
    expect(fields).to.include("body.options.vpcCidr");
    expect(fields).to.include("body.options");
  });

  it("maps an API node to a config the node program synthesizes, with outputs the runtime accepts", async () => {
    const { parseNodeConfig } = await import("../../lib/node/config");
    const { synthNode } = await import("../../lib/node/synth");
    const { NodeOutputsSchema } = await import("../../lib/model/node-outputs");
    const spec: NodeSpec = { id: "api-node", mode: "secure", region: "eu-west-1", options: { availabilityZones: 2 } };
    defaultNodeProgram().validate(spec);
    const { outputs } = await synthNode(parseNodeConfig(nodeConfigInput(spec), []));
    const parsed = NodeOutputsSchema.parse(outputs);
    expect(parsed).to.include({ computeNodeId: "api-node", deploymentMode: "secure", region: "eu-west-1" });
  });
});
