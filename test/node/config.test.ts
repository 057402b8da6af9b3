import { expect } from "chai";
import { ValidationError } from "../../lib/errors";
import { parseNodeConfig } from "../../lib/node/config";

const issuesOf = (input: unknown) => {
  try {
    parseNodeConfig(input);
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).issues.map((i) => i.path.join("."));
  }
  throw new Error("expected a ValidationError");
};

describe("parseNodeConfig", () => {
  it("applies defaults to a minimal config", () => {
    const config = parseNodeConfig({ computeNodeId: "n1", mode: "basic", region: "eu-west-1" });
    expect(config).to.include({ environment: "dev", availabilityZones: 2, enableLLMAccess: false, forceDestroy: false });
  });

  it("requires the BAA acknowledgement for LLM access in secure and compliant modes, naming the key", () => {
    for (const mode of ["secure", "compliant"]) expect(issuesOf({ computeNodeId: "n1", mode, region: "us-east-1", enableLLMAccess: true })).to.deep.equal(["config.baaAcknowledged"]);
    expect(() => parseNodeConfig({ computeNodeId: "n1", mode: "basic", region: "us-east-1", enableLLMAccess: true })).to.not.throw();
  });

  it("names every bad key at once", () => {
    expect(issuesOf({ computeNodeId: "Bad Id", mode: "open", region: "mars", gpu: { enabled: true, instanceType: "p3.2xlarge" }, unknownKey: 1 })).to.have.members([
      "config.computeNodeId",
      "config.mode",
      "config.region",
      "config.gpu.instanceType",
      "config",
    ]);
  });

  it("refuses a shared NAT gateway outside secure mode", () => {
    expect(issuesOf({ computeNodeId: "n1", mode: "compliant", region: "us-east-1", existingNatGatewayId: "nat-0123456789abcdef0" })).to.deep.equal(["config.existingNatGatewayId"]);
  });

  it("creates the basic node's S3 gateway endpoint unless told the VPC has one, and refuses the option outside basic mode", () => {
    expect(parseNodeConfig({ computeNodeId: "n1", mode: "basic", region: "us-east-1" }).s3GatewayEndpoint).to.equal(undefined);
    expect(parseNodeConfig({ computeNodeId: "n1", mode: "basic", region: "us-east-1", s3GatewayEndpoint: "existing" }).s3GatewayEndpoint).to.equal("existing");
    expect(issuesOf({ computeNodeId: "n1", mode: "basic", region: "us-east-1", s3GatewayEndpoint: "shared" })).to.deep.equal(["config.s3GatewayEndpoint"]);
    for (const mode of ["secure", "compliant"])
      for (const s3GatewayEndpoint of ["create", "existing"]) expect(issuesOf({ computeNodeId: "n1", mode, region: "us-east-1", s3GatewayEndpoint }), `${mode} ${s3GatewayEndpoint}`).to.deep.equal(["config.s3GatewayEndpoint"]);
  });

  it("accepts deploymentMode, the name stack outputs and the provisioning API use, as the mode", () => {
    expect(parseNodeConfig({ computeNodeId: "n1", deploymentMode: "secure", region: "us-east-1" }).mode).to.equal("secure");
  });

  it("suggests the key a misspelt option meant, as the workflow files do", () => {
    const err = (() => {
      try {
        parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", availabilityZone: 3 });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).to.include('unknown key "availabilityZone": did you mean "availabilityZones"?');
  });
});
