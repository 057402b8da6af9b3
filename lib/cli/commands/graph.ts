import { Command, Option } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";
import { GRAPH_FORMATS, GraphFormat, renderGraph } from "../graph-render";

export const graphCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("graph")
      .description("Draw the workflow DAG as Mermaid, Graphviz DOT or a self-contained SVG (layered by topological level).")
      .argument("<workflow>", "workflow JSON file")
      .addOption(new Option("--format <format>", "output format").choices(GRAPH_FORMATS).default("mermaid"))
      .option("--processors <file>", "processors file (a JSON array of registrations, or {\"processors\": [...]}; schemas/processors.schema.json) (shapes Lambda processors differently)")
      .option("--invocation <file>", "workflow invocation JSON")
      .option("--mode <mode>", "deployment mode: basic, secure or compliant", "basic")
      .option("--json", 'machine-readable output: {"format", "graph"} on stdout')
      .action((workflow: string, opts: { format: GraphFormat; processors?: string; invocation?: string; mode?: string; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const { loadPlan } = await import("../load-inputs");
          const plan = loadPlan(workflow, opts, ctx.io.cwd);
          const text = renderGraph({ name: plan.workflow.name, nodes: plan.processors.map((p) => ({ id: p.id, computeType: p.computeType, dependsOn: p.dependsOn })) }, opts.format);
          if (opts.json) writeJson(ctx, { format: opts.format, graph: text });
          else ctx.io.stdout(text);
          return EXIT.ok;
        }),
      );
  },
};
