import type { PulumiFn } from "@pulumi/pulumi/automation";
import { UnavailableError, ValidationError } from "../errors";
import { NodeSpec } from "./stack-engine";

/** How the service builds and checks a node's program; the default loads lib/node on first use. */
export interface NodeProgramSource {
  program(spec: NodeSpec): PulumiFn;
  /** Throws ValidationError when the node options do not fit the node config schema. */
  validate(spec: NodeSpec): void;
}

/** The node config the program takes (lib/node/config.ts), built from the API's node spec. */
export function nodeConfigInput(spec: NodeSpec): Record<string, unknown> {
  return { ...spec.options, computeNodeId: spec.id, mode: spec.mode, region: spec.region };
}

// Config keys the API takes as top-level fields of the node; every other key is one of its options.
const TOP_LEVEL = new Set(["computeNodeId", "mode", "region"]);

interface NodeModules {
  computeNodeProgram: (config: never) => PulumiFn | (() => unknown);
  parseNodeConfig: (value: unknown, prefix?: (string | number)[]) => unknown;
}

/**
 * The ComputeNode component as inline program (lib/node/program.ts) with its config parser
 * (lib/node/config.ts), loaded lazily: importing @pulumi/aws is slow and only node calls need it.
 */
export function defaultNodeProgram(load: () => NodeModules = loadNodeModules): NodeProgramSource {
  let modules: NodeModules | undefined;
  const get = () => (modules ??= load());
  return {
    program: (spec) => {
      const { computeNodeProgram, parseNodeConfig } = get();
      const program = computeNodeProgram(parseNodeConfig(nodeConfigInput(spec), []) as never);
      return program as PulumiFn;
    },
    validate: (spec) => {
      try {
        get().parseNodeConfig(nodeConfigInput(spec), []);
      } catch (err) {
        if (err instanceof ValidationError)
          throw new ValidationError(
            err.issues.map((i) => ({ ...i, path: TOP_LEVEL.has(String(i.path[0])) ? ["body", ...i.path] : ["body", "options", ...i.path] })),
            { cause: err },
          );
        throw err;
      }
    },
  };
}

function loadNodeModules(): NodeModules {
  try {
    // Required at run time: the node program is optional for everything but node calls.
    const program = require("../node/program") as Partial<NodeModules>;
    const config = require("../node/config") as Partial<NodeModules>;
    if (typeof program.computeNodeProgram !== "function" || typeof config.parseNodeConfig !== "function") throw new Error("lib/node does not export computeNodeProgram and parseNodeConfig");
    return { computeNodeProgram: program.computeNodeProgram, parseNodeConfig: config.parseNodeConfig };
  } catch (err) {
    throw new UnavailableError("the compute node program (lib/node/program.ts) could not be loaded", { cause: err });
  }
}
