import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "bin", "compute-node.js");
const BUILD_INFO = join(ROOT, "dist", ".tsbuildinfo");
const EXAMPLE = join(ROOT, "examples", "text-pipeline");
/** What the command table must not load: each command imports these inside its action. */
const HEAVY = ["zod", "@aws-sdk", "@pulumi", "express", "aws-local-stepfunctions", "typescript", "bottleneck", "proper-lockfile", "ts-node"];

function newestSource(): number {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => Math.max(max, e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith(".ts") ? statSync(join(dir, e.name)).mtimeMs : 0), 0);
  return Math.max(...["lib", "provisioner-service", "programs"].map((d) => newest(join(ROOT, d))), ...["tsconfig.json", "tsconfig.build.json"].map((f) => statSync(join(ROOT, f)).mtimeMs));
}

/** `npm ci` builds dist/ (prepare); a checkout edited since, or never built, is built here first, as `npm run build` would. */
function ensureBuilt(): void {
  if (existsSync(BUILD_INFO) && statSync(BUILD_INFO).mtimeMs >= newestSource()) return;
  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")], { cwd: ROOT, encoding: "utf8" });
  if (tsc.status !== 0) throw new Error(`npm run build failed:\n${tsc.stdout}${tsc.stderr}`);
  // tsc leaves its build info alone when nothing changed: mark this build as the one the sources were checked against.
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}

function run(args: string[], options: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, encoding: "utf8", env: { ...process.env, COMPUTE_NODE_FROM_SOURCE: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the built CLI (bin/compute-node.js → dist/)", function () {
  this.timeout(600_000);
  before(ensureBuilt);

  it("prints the package version for --version and -V", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const r = run([flag]);
      expect(r.code, flag).to.equal(0);
      expect(r.stdout, flag).to.equal(`${version}\n`);
    }
  });

  it("lists every command in --help", () => {
    const r = run(["--help"]);
    expect(r.code).to.equal(0);
    for (const command of ["validate", "run", "graph", "status", "compile", "serve", "deploy", "start", "cleanup", "node"]) expect(r.stdout).to.match(new RegExp(`^  ${command}\\b`, "m"));
  });

  it("validates and compiles the example", () => {
    const files = [join(EXAMPLE, "workflow.json"), "--processors", join(EXAMPLE, "processors.json")];
    const valid = run(["validate", ...files]);
    expect(valid.code, valid.stderr).to.equal(0);
    expect(valid.stdout).to.match(/^workflow "text-pipeline" is valid: 7 processors/);
    const compiled = run(["compile", ...files]);
    expect(compiled.code, compiled.stderr).to.equal(0);
    expect(JSON.parse(compiled.stdout)).to.have.property("StartAt");
  });

  it("exits 2 with the problem on stderr for invalid input", () => {
    const r = run(["validate", join(ROOT, "no-such-workflow.json")]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include("invalid input").and.include("no-such-workflow.json");
  });

  it("loads no command's dependencies to build the command table", () => {
    const probe = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(join(ROOT, "dist", "lib", "cli", "main.js"))}); console.log(JSON.stringify(Object.keys(require.cache)))`], { encoding: "utf8" });
    const loaded = (JSON.parse(probe.stdout) as string[]).filter((f) => f.includes(`node_modules`)).map((f) => f.slice(f.lastIndexOf("node_modules") + "node_modules/".length));
    expect(loaded.filter((m) => HEAVY.some((h) => m.startsWith(`${h}/`)))).to.deep.equal([]);
    expect(loaded.every((m) => m.startsWith("commander/"))).to.equal(true);
  });

  it("is the package entry, and finds what ships beside the code from dist/ as from lib/ (engine cache, LLM prices)", () => {
    const { main, types } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { main: string; types: string };
    expect(existsSync(join(ROOT, types)), types).to.equal(true);
    const probe = spawnSync(
      process.execPath,
      [
        "-e",
        `const root = ${JSON.stringify(ROOT)};
         const entry = require(require("path").join(root, ${JSON.stringify(main)}));
         const { engineCacheDir } = require(root + "/dist/lib/provision/engine-discovery.js");
         const { loadPriceFiles } = require(root + "/dist/lib/integrations/llm/prices.js");
         console.log(JSON.stringify({ resolvePlan: typeof entry.resolvePlan, engine: engineCacheDir({}), models: loadPriceFiles().length }));`,
      ],
      { cwd: tmpdir(), encoding: "utf8" },
    );
    expect(probe.status, probe.stderr).to.equal(0);
    const source = require("../../lib/integrations/llm/prices") as typeof import("../../lib/integrations/llm/prices");
    expect(JSON.parse(probe.stdout)).to.deep.equal({ resolvePlan: "function", engine: join(ROOT, ".engine"), models: source.loadPriceFiles().length });
  });

  it("bundles the Lambda handlers from the TypeScript sources when running from dist/", () => {
    const probe = spawnSync(process.execPath, ["-e", `console.log(JSON.stringify(require(${JSON.stringify(join(ROOT, "dist", "lib", "node", "handler-archive.js"))}).handlerFiles("lib/integrations/finalize/lambda")))`], { encoding: "utf8" });
    expect(probe.status, probe.stderr).to.equal(0);
    expect(JSON.parse(probe.stdout)).to.include.members(["lib/integrations/finalize/lambda.ts", "lib/errors.ts"]);
  });

  it("answers /healthz from serve --local, and stops on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cn-built-serve-"));
    const child = spawn(process.execPath, [BIN, "serve", "--local", "--port", "0", "--data-dir", dataDir], {
      env: { ...process.env, COMPUTE_NODE_FROM_SOURCE: "", COMPUTE_NODE_API_TOKEN: "built-cli-token-0123456789", PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          for (const line of out.split("\n")) {
            const entry = line.startsWith("{") ? (JSON.parse(line) as { msg?: string; url?: string }) : undefined;
            if (entry?.msg === "listening" && entry.url) resolve(entry.url);
          }
        });
        child.once("exit", (code) => reject(new Error(`serve exited ${code} before listening: ${out}`)));
      });
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).to.equal(0);
    } finally {
      child.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("says to run npm run build when dist/ is missing", () => {
    const checkout = mkdtempSync(join(tmpdir(), "cn-unbuilt-"));
    try {
      mkdirSync(join(checkout, "bin"));
      cpSync(BIN, join(checkout, "bin", "compute-node.js"));
      const r = spawnSync(process.execPath, [join(checkout, "bin", "compute-node.js"), "--help"], { cwd: checkout, encoding: "utf8", env: { ...process.env, COMPUTE_NODE_FROM_SOURCE: "" } });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include("compute-node is not built").and.include("npm run build").and.include(relative(checkout, join(checkout, "dist", "lib", "cli", "main.js")));
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });
});
