import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";

export const validateCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("validate")
      .description("Check a workflow with its registrations, invocation and mode; lists every problem with its file, field and processor.")
      .argument("<workflow>", "workflow JSON file")
      .option("--processors <file>", 'processor registrations: a JSON array, or {"processors": [...]} (default: every processor {"computeTypes": ["ecs"]})')
      .option("--invocation <file>", "workflow invocation JSON (processorConfigs, computeTypeOverrides)")
      .option("--mode <mode>", "deployment mode: basic, secure or compliant", "basic")
      .option("--json", "machine-readable output on stdout")
      .action((workflow: string, opts: { processors?: string; invocation?: string; mode?: string; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const { loadPlan } = await import("../load-inputs");
          const plan = loadPlan(workflow, opts, ctx.io.cwd);
          const processors = plan.processors.map((p) => ({ id: p.id, image: p.image, computeType: p.computeType, cpu: p.cpu, memory: p.memory, dependsOn: p.dependsOn, hash: p.hash }));
          if (opts.json) writeJson(ctx, { valid: true, workflow: plan.workflow.name, mode: plan.mode, processors });
          else {
            const counts = processors.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.computeType]: (acc[p.computeType] ?? 0) + 1 }), {});
            const kinds = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
            ctx.io.stdout(`workflow "${plan.workflow.name}" is valid: ${processors.length} processors (${kinds}), mode ${plan.mode}\n`);
          }
          return EXIT.ok;
        }),
      );
  },
};
