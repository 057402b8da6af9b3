import { expect } from "chai";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { handlerArchive } from "../../lib/node/handler-archive";

const files = async (archive: ReturnType<typeof handlerArchive>) => {
  const assets = (await archive.assets) as Record<string, { text: Promise<string> }>;
  const out: Record<string, string> = {};
  for (const [name, asset] of Object.entries(assets)) out[name] = await asset.text;
  return out;
};

describe("handlerArchive", () => {
  it("packages this repository's handlers and the transfer logic they import, as CommonJS", async () => {
    const content = await files(handlerArchive("lib/integrations/transfer/lambda"));
    expect(Object.keys(content)).to.include.members(["lib/integrations/transfer/lambda.js", "lib/integrations/transfer/merge.js", "lib/errors.js"]);
    expect(content["lib/integrations/transfer/lambda.js"]).to.include("exports.handler");
    expect(Object.keys(content).some((f) => f.endsWith(".ts"))).to.equal(false);
  });

  it("packages the finalize handler with its history reader, which imports only @aws-sdk/*", async () => {
    const content = await files(handlerArchive("lib/integrations/finalize/lambda"));
    expect(Object.keys(content)).to.include.members(["lib/integrations/finalize/lambda.js", "lib/runtime/aws/history.js"]);
    const requires = [...content["lib/runtime/aws/history.js"].matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(requires.every((r) => r.startsWith("@aws-sdk/")), requires.join(", ")).to.equal(true);
  });

  it("ships the price tables the finalize handler's cost model imports verbatim, and the unpacked bundle loads them", async () => {
    const content = await files(handlerArchive("lib/integrations/finalize/lambda"));
    for (const region of ["us-east-1", "us-west-2", "eu-west-1"]) {
      const file = `lib/cost/prices/${region}.json`;
      expect(content[file], file).to.equal(readFileSync(join(__dirname, "../..", file), "utf8"));
    }
    const unpacked = mkdtempSync(join(tmpdir(), "cn-bundle-"));
    for (const [name, text] of Object.entries(content)) {
      mkdirSync(join(unpacked, dirname(name)), { recursive: true });
      writeFileSync(join(unpacked, name), text);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled = require(join(unpacked, "lib/cost/price-table.js")) as { findPriceTable(region: string): { region: string } | undefined };
    expect(bundled.findPriceTable("eu-west-1")?.region).to.equal("eu-west-1");
  });

  it("refuses an import that resolves to no .ts or .json file, naming it", () => {
    const root = mkdtempSync(join(tmpdir(), "cn-archive-"));
    mkdirSync(join(root, "lib", "x"), { recursive: true });
    writeFileSync(join(root, "lib", "x", "lambda.ts"), 'import table from "./missing.json";\nexport const handler = () => table;');
    expect(() => handlerArchive("lib/x/lambda", root)).to.throw(/lib\/x\/lambda\.ts imports "\.\/missing\.json", which resolves to no \.ts or \.json file/);
  });

  it("produces the same archive twice, so unchanged code is no diff", async () => {
    expect(await files(handlerArchive("lib/integrations/finalize/lambda"))).to.deep.equal(await files(handlerArchive("lib/integrations/finalize/lambda")));
  });

  it("fails naming the handler when its entry file is missing", () => {
    const root = mkdtempSync(join(tmpdir(), "cn-archive-"));
    mkdirSync(join(root, "lib", "integrations", "transfer"), { recursive: true });
    writeFileSync(join(root, "lib", "integrations", "transfer", "other.ts"), "export const x = 1;");
    expect(() => handlerArchive("lib/integrations/transfer/lambda", root)).to.throw(/lambda\.ts is missing/);
  });

  it("packages only the files the entry imports, not the slice's compiler or local-runner code", async () => {
    const content = await files(handlerArchive("lib/integrations/transfer/lambda"));
    expect(Object.keys(content)).to.not.include.members(["lib/integrations/transfer/asl.js"]);
    expect(Object.keys(content).filter((f) => f.startsWith("lib/integrations/transfer/local") || f.startsWith("lib/compile/"))).to.deep.equal([]);
  });

  it("refuses a handler that imports an npm package the Lambda runtime lacks, naming the file and the import", () => {
    const root = mkdtempSync(join(tmpdir(), "cn-archive-"));
    mkdirSync(join(root, "lib", "x"), { recursive: true });
    writeFileSync(join(root, "lib", "x", "lambda.ts"), 'import { helper } from "./helper";\nexport const handler = helper;');
    writeFileSync(join(root, "lib", "x", "helper.ts"), 'import { z } from "zod";\nexport const helper = () => z;');
    expect(() => handlerArchive("lib/x/lambda", root)).to.throw(/lib\/x\/helper\.ts imports "zod"/);
  });
});
