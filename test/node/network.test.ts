import { expect } from "chai";
import { subnetRouteTableIds } from "../../lib/node/network";

describe("subnetRouteTableIds", () => {
  it("uses the main route table for subnets without an explicit association", () => {
    expect(subnetRouteTableIds("rtb-main", [[], undefined])).to.deep.equal(["rtb-main"]);
  });

  it("uses a subnet's own route table when it has one, listing each table once", () => {
    expect(subnetRouteTableIds("rtb-main", [["rtb-b"], [], ["rtb-b"]])).to.deep.equal(["rtb-b", "rtb-main"]);
  });
});
