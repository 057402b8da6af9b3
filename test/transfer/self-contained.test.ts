import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

// The data-transfer Lambda is built by transpiling lib/transfer alone, with no npm packages beside it.
describe("lib/transfer", () => {
  it("imports only node builtins and files inside lib/transfer", () => {
    const dir = resolve(__dirname, "../../lib/transfer");
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const [, spec] of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["']([^"']+)["']/g)) {
        const ok = spec.startsWith("node:") || (spec.startsWith("./") && !spec.includes(".."));
        if (!ok) offenders.push(`${file}: ${spec}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });
});
