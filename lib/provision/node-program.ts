import type { PulumiFn } from "@pulumi/pulumi/automation";
import { UnavailableError, ValidationError } from "../errors";
import { NodeSpec } from "./stack-engine";

/** How the service builds and checks a node's program; the default loads lib/node on first use. */
export interface NodeProgramSource {
  program(spec: NodeSpec): PulumiFn;
  /** Throws ValidationError when the node options do not fit the node config schema. */
  validate(spec: NodeSpec): void;
  /** Throws UnavailableError when the program cannot be loaded, before any operation is accepted. */
  ensureLoaded(): void;
}

/** The node config the program takes (lib/node/config.ts), built from the API's node spec. */
export function nodeConfigInput(spec: NodeSpec): Record<string, unknown> {
  return { ...spec.options, computeNodeId: spec.id, mode: spec.mode, region: spec.region };
}

// Config keys the API takes as top-level fields of the node; every other key is one of its options.
const TOP_LEVEL = new Set(["computeNodeId", "mode", "region"]);

type ParseNodeConfig = (value: unknown, prefix?: (string | number)[]) => unknown;
type ComputeNodeProgram = (config: never) => PulumiFn | (() => unknown);

export interface NodeModuleLoaders {
  config: () => ParseNodeConfig;
  program: () => ComputeNodeProgram;
}

/**
 * The ComputeNode component as inline program (lib/node/program.ts) with its config parser
 * (lib/node/config.ts), each loaded on first use: importing @pulumi/aws is slow and only node
 * calls need it; validation needs only the config module.
 */
export function defaultNodeProgram(loaders: NodeModuleLoaders = { config: loadConfigModule, program: loadProgramModule }): NodeProgramSource {
  let parse: ParseNodeConfig | undefined;
  let build: ComputeNodeProgram | undefined;
  const parseConfig = (spec: NodeSpec) => (parse ??= loaders.config())(nodeConfigInput(spec), []);
  const program = () => (build ??= loaders.program());
  return {
    ensureLoaded: () => void program(),
    program: (spec) => program()(parseConfig(spec) as never) as PulumiFn,
    validate: (spec) => {
      try {
        parseConfig(spec);
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

function loadConfigModule(): ParseNodeConfig {
  return loadExport<ParseNodeConfig>("../node/config", "parseNodeConfig", "lib/node/config.ts");
}

function loadProgramModule(): ComputeNodeProgram {
  return loadExport<ComputeNodeProgram>("../node/program", "computeNodeProgram", "lib/node/program.ts");
}

function loadExport<T>(path: string, name: string, file: string): T {
  let value: unknown;
  try {
    // Required at run time: the node program is optional for everything but node calls.
    value = (require(path) as Record<string, unknown>)[name];
  } catch (err) {
    throw new UnavailableError(`the compute node program (${file}) could not be loaded`, { cause: err });
  }
  if (typeof value !== "function") throw new UnavailableError(`${file} does not export ${name}`);
  return value as T;
}
