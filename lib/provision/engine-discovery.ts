import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { packageRoot } from "../package-root";

/** Where the Pulumi engine (CLI and AWS provider plugin) comes from. */
export interface EngineLocation {
  /**
   * `explicit`: a `--pulumi-root` / PULUMI_CLI_ROOT the caller named; `cache`: what `npm run engine:build`
   * left in `.engine/`; `path`: a `pulumi` on PATH; `none`: nothing found (operations then fail saying so).
   */
  source: "explicit" | "cache" | "path" | "none";
  /** Directory holding `bin/pulumi`; undefined means the `pulumi` on PATH. */
  cliRoot?: string;
  /** PULUMI_HOME holding `plugins/resource-aws-v<version>/` (the cache's); undefined: the caller's default. */
  pulumiHome?: string;
  /** Whether `pulumiHome` already holds the AWS provider plugin the node program needs (no install then). */
  awsPluginInstalled: boolean;
  /** One line for logs and `--help`-style messages. */
  description: string;
}

export interface DiscoverEngineOptions {
  env: NodeJS.ProcessEnv;
  /** A directory named explicitly (`--pulumi-root`); wins over everything. */
  pulumiRoot?: string;
  /** The compute-node checkout whose `.engine/` cache to look in. @default this checkout */
  checkoutRoot?: string;
  /** @default @pulumi/pulumi's version */
  cliVersion?: string;
  /** @default @pulumi/aws's version */
  awsVersion?: string;
  /** @default fs.existsSync */
  exists?: (path: string) => boolean;
}

/** The engine build cache of a checkout (`npm run engine:build`). COMPUTE_NODE_ENGINE_DIR overrides it. */
export function engineCacheDir(env: NodeJS.ProcessEnv, checkoutRoot = packageRoot()): string {
  return env.COMPUTE_NODE_ENGINE_DIR ? resolve(env.COMPUTE_NODE_ENGINE_DIR) : join(checkoutRoot, ".engine");
}

export const ENGINE_BUILD_HINT = "run `npm run engine:build` in the compute-node checkout (builds the Pulumi CLI and the AWS provider into .engine/), or put a Pulumi CLI 3.248 on PATH with the AWS provider plugin installed";

/**
 * Finds the engine without extra environment: an explicit root first (`--pulumi-root`, then
 * PULUMI_CLI_ROOT), then the `.engine/` cache `npm run engine:build` fills, then `pulumi` on PATH.
 * The cache's private PULUMI_HOME comes with its CLI, so the provider plugin it built is found too.
 */
export function discoverEngine(options: DiscoverEngineOptions): EngineLocation {
  const exists = options.exists ?? existsSync;
  const env = options.env;
  const cliVersion = options.cliVersion ?? packageVersion("@pulumi/pulumi");
  const awsVersion = options.awsVersion ?? packageVersion("@pulumi/aws");
  const cache = engineCacheDir(env, options.checkoutRoot);
  const cacheHome = join(cache, "pulumi-home");
  const plugin = (home: string) => exists(join(home, "plugins", `resource-aws-v${awsVersion}`, "pulumi-resource-aws"));
  const cachedPlugin = plugin(cacheHome);

  const explicit = options.pulumiRoot ?? env.PULUMI_CLI_ROOT;
  if (explicit) {
    const cliRoot = resolve(explicit);
    return { source: "explicit", cliRoot, ...(cachedPlugin ? { pulumiHome: cacheHome } : {}), awsPluginInstalled: cachedPlugin, description: `Pulumi CLI in ${cliRoot}${cachedPlugin ? `, AWS provider from ${cacheHome}` : ""}` };
  }
  const cacheCli = join(cache, `pulumi-${cliVersion}`);
  if (exists(join(cacheCli, "bin", "pulumi")))
    return {
      source: "cache",
      cliRoot: cacheCli,
      pulumiHome: cacheHome,
      awsPluginInstalled: cachedPlugin,
      description: `engine cache ${cache} (Pulumi CLI ${cliVersion}${cachedPlugin ? `, AWS provider ${awsVersion}` : `; no AWS provider ${awsVersion} yet: ${ENGINE_BUILD_HINT}`})`,
    };
  const onPath = (env.PATH ?? "").split(delimiter).filter(Boolean).find((dir) => exists(join(dir, "pulumi")));
  if (onPath) return { source: "path", ...(cachedPlugin ? { pulumiHome: cacheHome } : {}), awsPluginInstalled: cachedPlugin, description: `pulumi on PATH (${join(onPath, "pulumi")})` };
  return { source: "none", awsPluginInstalled: false, description: `no Pulumi engine found: ${ENGINE_BUILD_HINT}` };
}

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}
