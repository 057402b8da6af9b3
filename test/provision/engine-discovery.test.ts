import { expect } from "chai";
import { join } from "node:path";
import { discoverEngine, engineCacheDir } from "../../lib/provision/engine-discovery";

describe("engine discovery (cache, then PATH)", () => {
  const root = "/checkout";
  const cache = join(root, ".engine");
  const cli = join(cache, "pulumi-3.248.0", "bin", "pulumi");
  const plugin = join(cache, "pulumi-home", "plugins", "resource-aws-v7.48.0", "pulumi-resource-aws");
  const find = (files: string[], env: NodeJS.ProcessEnv = {}, pulumiRoot?: string) =>
    discoverEngine({ env, pulumiRoot, checkoutRoot: root, cliVersion: "3.248.0", awsVersion: "7.48.0", exists: (p) => files.includes(p) });

  it("prefers the engine:build cache, with its private PULUMI_HOME and the provider it built, over a pulumi on PATH", () => {
    const found = find([cli, plugin, "/usr/bin/pulumi"], { PATH: "/usr/bin" });
    expect(found).to.deep.include({ source: "cache", cliRoot: join(cache, "pulumi-3.248.0"), pulumiHome: join(cache, "pulumi-home"), awsPluginInstalled: true });
    expect(found.description).to.include("AWS provider 7.48.0");
  });

  it("uses the cache's CLI without a provider yet, and says how to build it", () => {
    const found = find([cli]);
    expect(found).to.deep.include({ source: "cache", awsPluginInstalled: false });
    expect(found.description).to.include("npm run engine:build");
  });

  it("falls back to pulumi on PATH, still with the cache's provider when there is one", () => {
    expect(find(["/opt/pulumi/bin/pulumi"], { PATH: "/nope:/opt/pulumi/bin" })).to.deep.include({ source: "path", awsPluginInstalled: false }).and.not.have.property("cliRoot");
    expect(find(["/opt/pulumi/bin/pulumi", plugin], { PATH: "/opt/pulumi/bin" })).to.deep.include({ source: "path", pulumiHome: join(cache, "pulumi-home"), awsPluginInstalled: true });
  });

  it("an explicit root (--pulumi-root, else PULUMI_CLI_ROOT) wins over the cache", () => {
    expect(find([cli, plugin], { PULUMI_CLI_ROOT: "/env/pulumi" })).to.deep.include({ source: "explicit", cliRoot: "/env/pulumi" });
    expect(find([cli], { PULUMI_CLI_ROOT: "/env/pulumi" }, "/flag/pulumi")).to.deep.include({ source: "explicit", cliRoot: "/flag/pulumi", awsPluginInstalled: false });
  });

  it("finds nothing and names the command that builds an engine", () => {
    const found = find([], { PATH: "/usr/bin" });
    expect(found.source).to.equal("none");
    expect(found.description).to.include("npm run engine:build");
  });

  it("COMPUTE_NODE_ENGINE_DIR moves the cache", () => {
    expect(engineCacheDir({ COMPUTE_NODE_ENGINE_DIR: "/var/cache/cn-engine" }, root)).to.equal("/var/cache/cn-engine");
    expect(engineCacheDir({}, root)).to.equal(cache);
  });
});
