import { expect } from "chai";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handlerArchive } from "../../lib/node/handler-archive";

const files = async (archive: ReturnType<typeof handlerArchive>) => {
  const assets = (await archive.assets) as Record<string, { text: Promise<string> }>;
  const out: Record<string, string> = {};
  for (const [name, asset] of Object.entries(assets)) out[name] = await asset.text;
  return out;
};

describe("handlerArchive", () => {
  it("packages this repository's handlers and the transfer logic they import, as CommonJS", async () => {
    const content = await files(handlerArchive("lib/handlers/data-transfer"));
    expect(Object.keys(content)).to.include.members(["lib/handlers/data-transfer.js", "lib/transfer/merge-inputs.js"]);
    expect(content["lib/handlers/data-transfer.js"]).to.include("exports.handler");
    expect(Object.keys(content).some((f) => f.endsWith(".ts"))).to.equal(false);
  });

  it("packages the finalize handler with its history reader, which imports only @aws-sdk/*", async () => {
    const content = await files(handlerArchive("lib/handlers/finalize"));
    expect(Object.keys(content)).to.include.members(["lib/handlers/finalize.js", "lib/handlers/execution-tasks.js"]);
    const requires = [...content["lib/handlers/execution-tasks.js"].matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(requires.every((r) => r.startsWith("@aws-sdk/")), requires.join(", ")).to.equal(true);
  });

  it("produces the same archive twice, so unchanged code is no diff", async () => {
    expect(await files(handlerArchive("lib/handlers/finalize"))).to.deep.equal(await files(handlerArchive("lib/handlers/finalize")));
  });

  it("fails naming the handler when its entry file is missing", () => {
    const root = mkdtempSync(join(tmpdir(), "cn-archive-"));
    mkdirSync(join(root, "lib", "handlers"), { recursive: true });
    writeFileSync(join(root, "lib", "handlers", "other.ts"), "export const x = 1;");
    expect(() => handlerArchive("lib/handlers/data-transfer", root)).to.throw(/data-transfer\.ts is missing/);
  });
});
