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

describe("compute-node node synth --check", function () {
  this.timeout(60000);

  it("reports that a compliant node with LLM access holds its mode's invariants, keeping stdout pure JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cn-check-"));
    writeFileSync(join(dir, "node.json"), JSON.stringify({ computeNodeId: "lab-9", enableLLMAccess: true, baaAcknowledged: true }));
    const { code, stdout, stderr } = await cli(["node", "synth", "--mode", "compliant", "--config", "node.json", "--json", "--check"], dir);
    expect(stderr).to.equal("policy pack: compliant mode invariants hold\n");
    expect(code).to.equal(0);
    expect(JSON.parse(stdout)).to.be.an("array").that.is.not.empty;
  });
});
