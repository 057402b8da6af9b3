import { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { readJsonFile } from "../load-inputs";
import { runAction, writeJson } from "../action";

interface SynthOptions {
  mode: string;
  config?: string;
  nodeId?: string;
  region?: string;
  json?: boolean;
}

export const nodeCommand: CliCommand = {
  register(program: Command, ctx) {
    const node = program.command("node").description("Compute node infrastructure (the Pulumi program of programs/compute-node).");
    node
      .command("synth")
      .description("Run the node program offline under Pulumi mocks and list every resource it would create (no credentials, no Pulumi CLI).")
      .requiredOption("--mode <mode>", "deployment mode: basic, secure or compliant")
      .option("--config <file>", "node config JSON (the keys of docs/node.md); --mode overrides its mode")
      .option("--node-id <id>", "compute node id when the config has none", "synth")
      .option("--region <region>", "AWS region when the config has none", "us-east-1")
      .option("--json", 'print [{"type", "name", "inputs"}] on stdout')
      .action((opts: SynthOptions) =>
        runAction(ctx, !!opts.json, async () => {
          const file = opts.config ? (readJsonFile(opts.config, "--config", ctx.io.cwd) as Record<string, unknown>) : {};
          // Loaded here: @pulumi/aws takes seconds to import and only this command needs it.
          const { parseNodeConfig } = await import("../../node/config");
          const { synthNode } = await import("../../node/synth");
          const config = parseNodeConfig({ computeNodeId: opts.nodeId, region: opts.region, ...file, mode: opts.mode });
          const { resources } = await synthNode(config);
          const listed = resources.filter((r) => r.type !== "compute-node:index:ComputeNode");
          if (opts.json) writeJson(ctx, listed.map(({ type, name, inputs }) => ({ type, name, inputs })));
          else {
            ctx.io.stdout(`compute node "${config.computeNodeId}" (${config.mode}, ${config.region}): ${listed.length} resources\n`);
            const width = Math.max(...listed.map((r) => r.type.length));
            for (const r of listed) ctx.io.stdout(`  ${r.type.padEnd(width)}  ${r.name}\n`);
          }
          return EXIT.ok;
        }),
      );
  },
};
