import * as pulumi from "@pulumi/pulumi";
import { AutomationStackEngine } from "../lib/provision/automation-engine";
import { NodeSpec } from "../lib/provision/stack-engine";

/**
 * A provider-free inline program: only stack outputs (one secret), so the real engine runs without
 * any plugin. `options.delayMs` keeps the update (and its stack lock) open that long.
 */
export function outputsOnlyProgram(spec: NodeSpec) {
  return async () => {
    const delay = Number(spec.options.delayMs ?? 0);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    return {
      computeNodeId: spec.id,
      deploymentMode: spec.mode,
      region: new pulumi.Config("aws").require("region"),
      generation: Number(spec.options.generation ?? 1),
      apiKey: pulumi.secret("s3cr3t-engine-value"),
    };
  };
}

export interface EngineTierEnv {
  cliRoot: string;
  backendDir: string;
  dataDir: string;
}

export function realEngine(env: EngineTierEnv): AutomationStackEngine {
  return new AutomationStackEngine({
    program: outputsOnlyProgram,
    dataDir: env.dataDir,
    cliRoot: env.cliRoot,
    envVars: {
      PULUMI_BACKEND_URL: `file://${env.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "engine-tier-passphrase",
      PATH: `${env.cliRoot}/bin:${process.env.PATH ?? ""}`,
    },
  });
}
