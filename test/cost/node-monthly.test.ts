import { expect } from "chai";
import { NodeCostResult, estimateNodeCost } from "../../lib/cost/node-cost";
import { nodeMonthlyCost } from "../../lib/cost/node-monthly";
import { priceTableFor } from "../../lib/cost/price-table";
import { parseNodeConfig } from "../../lib/node/config";

const estimate = (input: Record<string, unknown>, assumptions = {}) => estimateNodeCost(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", ...input }), assumptions);
const lines = (r: NodeCostResult, category: string) => r.cost.lines.filter((l) => l.category === category);

describe("the node's fixed monthly cost", function () {
  this.timeout(180000);
  const modes: Record<string, NodeCostResult> = {};
  before(async () => {
    for (const mode of ["basic", "secure", "compliant"]) modes[mode] = await estimate({ mode });
  });

  it("orders the modes basic < secure and basic < compliant, each the sum of its lines, per month", () => {
    const [basic, secure, compliant] = ["basic", "secure", "compliant"].map((m) => modes[m].cost);
    expect(basic.totalUsd).to.be.lessThan(secure.totalUsd);
    expect(basic.totalUsd).to.be.lessThan(compliant.totalUsd);
    for (const cost of [basic, secure, compliant]) {
      expect(cost.totalUsd).to.be.closeTo(cost.lines.reduce((s, l) => s + l.usd, 0), 1e-9);
      expect(cost).to.include({ period: "month", region: "us-east-1", pricingVersion: "2026-12-02" });
    }
    // Secure: one NAT gateway all month (730 h × $0.045) and its public IPv4 address (730 h × $0.005).
    expect(lines(modes.secure, "nat").map((l) => [l.quantity, l.usd])).to.deep.equal([[730, 32.85], [730, 3.65]]);
    expect(lines(modes.basic, "nat")).to.deep.equal([]);
  });

  it("gives compliant mode one line per VPC endpoint the program creates, interface endpoints billed in each of their zones", () => {
    const endpoints = modes.compliant.resources.filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint");
    const endpointLines = lines(modes.compliant, "endpoints");
    expect(endpointLines).to.have.length(endpoints.length);
    for (const e of endpoints) {
      const service = String(e.inputs.serviceName).replace("com.amazonaws.us-east-1.", "");
      const line = endpointLines.find((l) => l.item.includes(` ${service} `));
      expect(line, service).to.not.equal(undefined);
      if (e.inputs.vpcEndpointType === "Interface") expect(line).to.deep.include({ quantity: 2 * 730, unit: "endpoint-AZ-hour", usd: 14.6 });
      else expect(line).to.deep.include({ usd: 0 });
    }
    expect(modes.compliant.byResource[endpoints.find((e) => e.inputs.vpcEndpointType === "Interface")!.name]).to.equal(14.6);
  });

  it("follows the program: a third zone adds to every interface endpoint, Bedrock access adds its endpoint, a shared NAT gateway is not this node's", async () => {
    const wide = await estimate({ mode: "compliant", availabilityZones: 3, enableLLMAccess: true, baaAcknowledged: true });
    const interfaces = lines(wide, "endpoints").filter((l) => l.unit === "endpoint-AZ-hour");
    expect(interfaces.every((l) => l.quantity === 3 * 730)).to.equal(true);
    expect(interfaces.map((l) => l.item)).to.include("interface endpoint bedrock-runtime (3 zones)");
    const shared = await estimate({ mode: "secure", existingNatGatewayId: "nat-0123456789abcdef0" });
    expect(lines(shared, "nat")).to.deep.equal([]);
    expect(shared.cost.missing.map((m) => m.item)).to.include("shared NAT gateway nat-0123456789abcdef0");
  });

  it("prices one KMS key per key the program creates, and the stated log and EFS volumes", async () => {
    const keys = modes.secure.resources.filter((r) => r.type === "aws:kms/key:Key").length;
    expect(keys).to.equal(4);
    expect(lines(modes.secure, "kms").map((l) => l.usd)).to.deep.equal([1, 1, 1, 1]);
    const heavy = await estimate({ mode: "secure" }, { flowLogGb: 100, processorLogGb: 10, efsGb: 50 });
    const item = (prefix: string) => heavy.cost.lines.find((l) => l.item.startsWith(prefix))!;
    expect(item("VPC flow log ingestion (assumed 100 GB/month)")).to.deep.include({ quantity: 100, usd: 50 });
    expect(item("EFS storage (assumed 50 GB at rest)")).to.deep.include({ usd: 15 });
    expect(item("log archive in S3 Standard")).to.deep.include({ quantity: 30 });
  });

  it("is pure over a resource list", () => {
    const result = nodeMonthlyCost({
      resources: [
        { type: "aws:kms/key:Key", name: "k", inputs: {} },
        { type: "aws:ec2/vpcEndpoint:VpcEndpoint", name: "e", inputs: { serviceName: "com.amazonaws.eu-west-1.sts", vpcEndpointType: "Interface", subnetIds: ["a", "b"] } },
      ],
      prices: priceTableFor("eu-west-1"),
    });
    expect(result.cost.lines.map((l) => [l.item, l.usd])).to.deep.equal([["interface endpoint sts (2 zones)", 16.06], ["KMS key k", 1]]);
    expect(result.byResource).to.deep.equal({ e: 16.06, k: 1 });
  });
});
