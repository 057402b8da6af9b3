import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
// lib/json-file.ts, not ../load-inputs: that one loads the workflow model, which --help must not.
import { readJsonFile } from "../../json-file";
import { runAction, writeJson } from "../action";
import { registerNodeStackCommands, terminalConfirm } from "../node-stack";

const dollars = (n: number) => `$${n.toFixed(2)}`;

interface SynthOptions {
  mode: string;
  config?: string;
  nodeId?: string;
  region?: string;
  json?: boolean;
  check?: boolean;
}

export const nodeCommand: CliCommand = {
  register(program: Command, ctx) {
    const node = program.command("node").description("Compute node infrastructure (the Pulumi program of programs/compute-node).");
    registerNodeStackCommands(node, ctx, { confirm: terminalConfirm() });
    node
      .command("synth")
      .description("Run the node program offline under Pulumi mocks and list every resource it would create (no credentials, no Pulumi CLI).")
      .requiredOption("--mode <mode>", "deployment mode: basic, secure or compliant")
      .option("--config <file>", "node config JSON (the keys of docs/node.md); --mode overrides its mode")
      .option("--node-id <id>", "compute node id when the config has none", "synth")
      .option("--region <region>", "AWS region when the config has none", "us-east-1")
      .option("--json", 'print [{"type", "name", "inputs", "monthlyUsd"}] on stdout')
      .option("--check", "also run the mode's policy pack (lib/policy) over the resources; violations go to stderr and exit 1")
      .action((opts: SynthOptions) =>
        runAction(ctx, opts, async () => {
          const file = opts.config ? (readJsonFile(opts.config, "--config", ctx.io.cwd) as Record<string, unknown>) : {};
          // Loaded here: @pulumi/aws takes seconds to import and only this command needs it.
          const { parseNodeConfig } = await import("../../node/config");
          const { synthNode } = await import("../../node/synth");
          const config = parseNodeConfig({ computeNodeId: opts.nodeId, region: opts.region, ...file, mode: opts.mode });
          const { resources, outputs } = await synthNode(config);
          const listed = resources.filter((r) => r.type !== "compute-node:index:ComputeNode");
          // Each resource's fixed monthly cost (docs/cost.md, `cost node`); none when the region has no price table.
          const { findPriceTable } = await import("../../cost/price-table");
          const { nodeMonthlyCost } = await import("../../cost/node-monthly");
          const prices = findPriceTable(config.region);
          const monthly = prices ? nodeMonthlyCost({ resources: listed, prices, processorLogGroupName: typeof outputs.logGroupName === "string" ? outputs.logGroupName : undefined }) : undefined;
          const monthlyUsd = (name: string) => monthly?.byResource[name] ?? 0;
          if (opts.json) writeJson(ctx, listed.map(({ type, name, inputs }) => ({ type, name, inputs, ...(monthly ? { monthlyUsd: monthlyUsd(name) } : {}) })));
          else {
            ctx.io.stdout(`compute node "${config.computeNodeId}" (${config.mode}, ${config.region}): ${listed.length} resources${monthly ? `, ${dollars(monthly.cost.totalUsd)}/month fixed (compute-node cost node explains it)` : ` (no price table for ${config.region}: no monthly cost column)`}\n`);
            const width = Math.max(...listed.map((r) => r.type.length));
            const nameWidth = Math.max(...listed.map((r) => r.name.length));
            for (const r of listed) ctx.io.stdout(`  ${r.type.padEnd(width)}  ${monthly && monthlyUsd(r.name) ? r.name.padEnd(nameWidth) + `  ${dollars(monthlyUsd(r.name))}/month` : r.name}\n`);
          }
          if (!opts.check) return EXIT.ok;
          const { checkNodePolicies } = await import("../../policy/rules");
          const violations = checkNodePolicies(listed, config.mode);
          for (const v of violations) ctx.io.stderr(`policy ${v.policy}${v.resource ? ` (${v.resource})` : ""}: ${v.message}\n`);
          ctx.io.stderr(violations.length ? `${violations.length} policy violation(s) for ${config.mode} mode\n` : `policy pack: ${config.mode} mode invariants hold\n`);
          return violations.length ? EXIT.failed : EXIT.ok;
        }),
      );
  },
};
