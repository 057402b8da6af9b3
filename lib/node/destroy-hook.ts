import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as awsRuntime from "../runtime/aws";
import { CHECKOUT_ROOT_ENV } from "./checkout-root";

export interface DestroyHookArgs {
  computeNodeId: string;
  region: string;
  /** Stop running executions instead of refusing to destroy. */
  force: boolean;
}

// Lambda releases a deleted function's VPC ENIs some minutes later; subnets and security groups cannot go before that.
const ENI_RELEASE_TIMEOUT_MS = 40 * 60 * 1000;
const ENI_POLL_MS = 30 * 1000;

/**
 * `pulumi destroy` reads the hook's last-deployed inputs, not current config: this environment
 * variable forces a destroy without a `pulumi up` of `forceDestroy` first.
 */
export const FORCE_DESTROY_ENV = "COMPUTE_NODE_FORCE_DESTROY";

/**
 * What the hook runs on delete: the AWS runtime's public index and its `cleanupNodeResources`. The
 * export is named against the module's type, and the type of that export against what the hook
 * calls, so renaming or reshaping it fails `tsc` rather than a destroy months later.
 */
export const CLEANUP_ENTRY = { module: "lib/runtime/aws/index", export: "cleanupNodeResources" } as const satisfies { module: string; export: keyof typeof awsRuntime };

/** What the hook needs of the cleanup: the options it passes, and the pending ENIs it waits on. */
export type NodeCleanup = (options: DestroyHookArgs) => Promise<{ pendingNetworkInterfaces?: string[] }>;
type IsCleanup<T extends NodeCleanup> = T;
// Fails to compile when the runtime's export stops accepting these options or stops reporting pending ENIs.
export type CheckedCleanup = IsCleanup<(typeof awsRuntime)[typeof CLEANUP_ENTRY.export]>;

/** Where the dynamic provider keeps its serialized code among the resource's inputs. */
const PROVIDER_KEY = "__provider";

const ROOT_ENV = CHECKOUT_ROOT_ENV;

/**
 * The cleanup module of this checkout, resolved now (at `pulumi up`), from the same specifier the
 * type of CLEANUP_ENTRY is checked against: `.ts` when the program runs from the sources, `.js` when
 * it runs from dist/. The path is serialized into the stack with the provider.
 */
export function cleanupModuleOfThisCheckout(): string {
  return require.resolve("../runtime/aws");
}

/**
 * Deletes what the runtime created outside the stack (proc-lambda functions and their ENIs, task
 * definitions, state machines, token secrets) when the node is destroyed. It depends on the network,
 * so Pulumi deletes it first; it fails closed while an execution runs unless `force`.
 */
export class NodeDestroyHook extends pulumi.dynamic.Resource {
  constructor(name: string, args: DestroyHookArgs, opts?: pulumi.CustomResourceOptions) {
    super(destroyHookProvider(cleanupModuleOfThisCheckout()), name, { ...args }, opts);
  }
}

/**
 * Where the cleanup entry sits below a directory: a compute-node checkout (sources or build), or a
 * project that depends on compute-node.
 */
const ENTRY_BELOW_ROOT = ["", path.join("node_modules", "compute-node")].flatMap((pkg) => [
  path.join(pkg, `${CLEANUP_ENTRY.module}.ts`),
  path.join(pkg, "dist", `${CLEANUP_ENTRY.module}.js`),
]);

/**
 * Exported for tests: the provider whose delete runs the node cleanup from the given module. The
 * path is serialized into the stack when the node is created; if that checkout has since moved, the
 * entry is looked up again below the directory destroy runs from (`programDir`, default the cwd) and
 * below COMPUTE_NODE_ROOT.
 */
export function destroyHookProvider(cleanupModule: string, timing = { timeoutMs: ENI_RELEASE_TIMEOUT_MS, pollMs: ENI_POLL_MS }, programDir?: string): pulumi.dynamic.ResourceProvider {
  // Captured by value: the provider is serialized and runs in its own process.
  const fallbacks = ENTRY_BELOW_ROOT;
  const exportName = CLEANUP_ENTRY.export;
  return {
    async create(inputs: DestroyHookArgs) {
      return { id: `destroy-hook-${inputs.computeNodeId}`, outs: inputs };
    },
    async diff(_id: string, olds: DestroyHookArgs, news: DestroyHookArgs) {
      const replaces = olds.computeNodeId !== news.computeNodeId || olds.region !== news.region ? ["computeNodeId"] : [];
      // Destroy runs the provider code stored with the resource: a newer one (a moved checkout, a
      // fixed hook) must reach the state through an update, or `pulumi up` would never store it.
      const providerChanged = (olds as unknown as Record<string, unknown>)[PROVIDER_KEY] !== (news as unknown as Record<string, unknown>)[PROVIDER_KEY];
      return { changes: replaces.length > 0 || olds.force !== news.force || providerChanged, replaces, deleteBeforeReplace: true };
    },
    async update(_id: string, _olds: DestroyHookArgs, news: DestroyHookArgs) {
      return { outs: news };
    },
    async delete(_id: string, props: DestroyHookArgs) {
      const fs: typeof import("node:fs") = require("node:fs");
      const paths: typeof import("node:path") = require("node:path");
      const roots = [programDir ?? process.cwd(), ...(process.env[ROOT_ENV] ? [process.env[ROOT_ENV]!] : [])];
      const candidates = [cleanupModule, ...roots.flatMap((root) => fallbacks.map((f) => paths.join(root, f)))];
      const module = candidates.find((c) => fs.existsSync(c));
      if (!module)
        throw new Error(`compute node ${props.computeNodeId}: cannot find the node cleanup (${exportName}; looked at ${candidates.join(", ")}); run destroy from the compute-node checkout or a project that depends on compute-node`);
      // The dynamic provider runs in its own process, without the program's TypeScript loader.
      // Its cwd is the program's directory (an inline program's work dir has no tsconfig.json), so the
      // compiler options are given here rather than looked up: ts-node's defaults do not compile it.
      if (module.endsWith(".ts") && !(require as unknown as { extensions: Record<string, unknown> }).extensions[".ts"])
        require("ts-node").register({ transpileOnly: true, skipProject: true, compilerOptions: { module: "commonjs", moduleResolution: "node", target: "es2022", esModuleInterop: true } });
      const cleanup = (require(module) as Record<string, unknown>)[exportName];
      if (typeof cleanup !== "function") throw new Error(`compute node ${props.computeNodeId}: ${module} does not export ${exportName}; run destroy from a compute-node checkout of the version that created the node`);
      // A timer, not clock readings: the wait is real time whatever the provider process's clock says.
      let expired = false;
      const timer = setTimeout(() => (expired = true), timing.timeoutMs);
      try {
        for (;;) {
          // Throws ConflictError (destroy refused) while an execution runs and force is off.
          const result = (await cleanup({ computeNodeId: props.computeNodeId, region: props.region, force: props.force || process.env[FORCE_DESTROY_ENV] === "true" })) as { pendingNetworkInterfaces?: string[] };
          if (!result.pendingNetworkInterfaces?.length) return;
          if (expired)
            throw new Error(`compute node ${props.computeNodeId}: Lambda ENIs ${result.pendingNetworkInterfaces.join(", ")} are still attached after ${Math.round(timing.timeoutMs / 60000)} minutes; run destroy again later`);
          await new Promise((r) => setTimeout(r, timing.pollMs));
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
