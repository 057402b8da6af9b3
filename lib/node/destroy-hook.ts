import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
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

const CLEANUP_MODULE = path.resolve(__dirname, "..", "runtime", "aws", "cleanup.ts");

/** Where the dynamic provider keeps its serialized code among the resource's inputs. */
const PROVIDER_KEY = "__provider";

const ROOT_ENV = CHECKOUT_ROOT_ENV;

/**
 * Deletes what the runtime created outside the stack (proc-lambda functions and their ENIs, task
 * definitions, state machines) when the node is destroyed. It depends on the network, so Pulumi
 * deletes it first; it fails closed while an execution runs unless `force`.
 */
export class NodeDestroyHook extends pulumi.dynamic.Resource {
  constructor(name: string, args: DestroyHookArgs, opts?: pulumi.CustomResourceOptions) {
    super(destroyHookProvider(CLEANUP_MODULE), name, { ...args }, opts);
  }
}

/** Where a cleanup module sits below a program directory: the compute-node checkout itself, or a project depending on it. */
const CLEANUP_BELOW_PROGRAM = [path.join("lib", "runtime", "aws", "cleanup.ts"), path.join("node_modules", "compute-node", "lib", "runtime", "aws", "cleanup.ts")];

/**
 * Exported for tests: the provider whose delete runs the node cleanup from the given module. The
 * path is serialized into the stack when the node is created; if that checkout has since moved, the
 * module is looked up again below the directory destroy runs from (`programDir`, default the cwd).
 */
export function destroyHookProvider(cleanupModule: string, timing = { timeoutMs: ENI_RELEASE_TIMEOUT_MS, pollMs: ENI_POLL_MS }, programDir?: string): pulumi.dynamic.ResourceProvider {
  const fallbacks = CLEANUP_BELOW_PROGRAM;
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
        throw new Error(`compute node ${props.computeNodeId}: cannot find the node cleanup module (looked at ${candidates.join(", ")}); run destroy from the compute-node checkout or a project that depends on compute-node`);
      // The dynamic provider runs in its own process, without the program's TypeScript loader.
      // Its cwd is the program's directory (an inline program's work dir has no tsconfig.json), so the
      // compiler options are given here rather than looked up: ts-node's defaults do not compile it.
      if (module.endsWith(".ts") && !(require as unknown as { extensions: Record<string, unknown> }).extensions[".ts"])
        require("ts-node").register({ transpileOnly: true, skipProject: true, compilerOptions: { module: "commonjs", moduleResolution: "node", target: "es2022", esModuleInterop: true } });
      const { cleanupNodeResources } = require(module);
      const deadline = Date.now() + timing.timeoutMs;
      for (;;) {
        // Throws ConflictError (destroy refused) while an execution runs and force is off.
        const result = await cleanupNodeResources({ computeNodeId: props.computeNodeId, region: props.region, force: props.force || process.env[FORCE_DESTROY_ENV] === "true" });
        if (!result.pendingNetworkInterfaces?.length) return;
        if (Date.now() > deadline)
          throw new Error(`compute node ${props.computeNodeId}: Lambda ENIs ${result.pendingNetworkInterfaces.join(", ")} are still attached after ${Math.round(timing.timeoutMs / 60000)} minutes; run destroy again later`);
        await new Promise((r) => setTimeout(r, timing.pollMs));
      }
    },
  };
}
