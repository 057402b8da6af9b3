import { expect } from "chai";
import { ValidationError } from "../../lib/errors";
import { readStackConfig } from "../../lib/node/stack-config";

const source = (values: Record<string, string>) => ({ get: (key: string) => values[key] });

describe("readStackConfig", () => {
  it("reads structured keys as JSON and keeps string keys verbatim", () => {
    const config = readStackConfig(
      source({ computeNodeId: "007", mode: "secure", region: "eu-west-1", gpu: '{"enabled": true, "maxInstances": 4}', availabilityZones: "3", forceDestroy: "true", environment: "123" }),
    );
    expect(config).to.include({ computeNodeId: "007", mode: "secure", region: "eu-west-1", availabilityZones: 3, forceDestroy: true, environment: "123" });
    expect(config.gpu).to.deep.equal({ enabled: true, instanceType: "g4dn.xlarge", maxInstances: 4 });
  });

  it("reads s3GatewayEndpoint as text", () => {
    expect(readStackConfig(source({ computeNodeId: "n1", mode: "basic", s3GatewayEndpoint: "existing" }), "us-east-1").s3GatewayEndpoint).to.equal("existing");
  });

  it("takes the region from aws:region when the node config has none", () => {
    expect(readStackConfig(source({ computeNodeId: "n1", mode: "basic" }), "ap-southeast-2").region).to.equal("ap-southeast-2");
  });

  it("refuses LLM access in compliant mode without the BAA acknowledgement, naming the stack config key", () => {
    try {
      readStackConfig(source({ computeNodeId: "n1", mode: "compliant", enableLLMAccess: "true" }), "us-east-1");
      expect.fail("accepted LLM access without baaAcknowledged");
    } catch (err) {
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path.join("."))).to.deep.equal(["compute-node.baaAcknowledged"]);
    }
  });

  it("names a malformed structured value's key", () => {
    try {
      readStackConfig(source({ computeNodeId: "n1", mode: "basic", budget: "{monthlyUsd: 5" }), "us-east-1");
      expect.fail("accepted malformed JSON");
    } catch (err) {
      expect((err as ValidationError).issues.map((i) => i.path.join("."))).to.deep.equal(["compute-node.budget"]);
    }
  });
});
