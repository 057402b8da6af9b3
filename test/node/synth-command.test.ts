import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../lib/cli/main";

async function cli(args: string[], cwd = process.cwd()) {
  let stdout = "";
  let stderr = "";
  const code = await main(["node", "compute-node", ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: {} });
  return { code, stdout, stderr };
}

describe("compute-node node synth", function () {
  this.timeout(60000);

  it("prints every resource of a compliant node as {type, name, inputs} JSON with no internet gateway among them", async () => {
    const { code, stdout } = await cli(["node", "synth", "--mode", "compliant", "--json"]);
    expect(code).to.equal(0);
    const resources = JSON.parse(stdout) as { type: string; name: string; inputs: Record<string, unknown> }[];
    expect(resources.map((r) => r.type)).to.include("aws:ec2/vpc:Vpc").and.not.include("aws:ec2/internetGateway:InternetGateway");
    expect(resources.every((r) => typeof r.name === "string" && typeof r.inputs === "object")).to.equal(true);
  });

  it("reads the node config from a file and lets --mode win", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cn-synth-"));
    writeFileSync(join(dir, "node.json"), JSON.stringify({ computeNodeId: "lab-7", mode: "secure", region: "eu-west-1", gpu: { enabled: true } }));
    const { code, stdout } = await cli(["node", "synth", "--mode", "basic", "--config", "node.json"], dir);
    expect(code).to.equal(0);
    expect(stdout).to.match(/compute node "lab-7" \(basic, eu-west-1\)/);
    expect(stdout).to.include("aws:ecs/capacityProvider:CapacityProvider");
  });

  it("exits 2 naming the key when the config is invalid", async () => {
    const { code, stderr } = await cli(["node", "synth", "--mode", "secure", "--node-id", "n1"].concat(["--config", "/nonexistent.json"]));
    expect(code).to.equal(2);
    expect(stderr).to.include("--config");
    const bad = await cli(["node", "synth", "--mode", "open"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include("config.mode");
  });
});
