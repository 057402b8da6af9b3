import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";

export const deployCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("deploy")
      .description("Register a workflow's processors (task definitions, Lambda functions) on a node and create or update its state machine. Repeating it changes nothing.")
      .argument("<workflow>", "workflow JSON file")
      .requiredOption("--node <file>", "the node's stack outputs (pulumi stack output --json)")
      .requiredOption("--processors <file>", "processors file (a JSON array of registrations, or {\"processors\": [...]}; schemas/processors.schema.json)")
      .option("--invocation <file>", "workflow invocation JSON (processorConfigs, computeTypeOverrides)")
      .option("--dry-run", "list each create, update, tag and delete the deploy would make, and why, without changing anything")
      .option("--json", "machine-readable output on stdout")
      .action((workflow: string, opts: { node: string; processors: string; invocation?: string; dryRun?: boolean; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const [{ loadNode, deployWorkflow, describeChange }, { loadPlan }] = await Promise.all([import("../../runtime/aws"), import("../load-inputs")]);
          const { node, clients } = loadNode(opts.node, { cwd: ctx.io.cwd, env: ctx.io.env });
          const plan = loadPlan(workflow, { ...opts, mode: node.deploymentMode }, ctx.io.cwd);
          const out = await deployWorkflow({ node, plan, clients, dryRun: !!opts.dryRun });
          const summary = {
            dryRun: out.dryRun,
            stateMachineArn: out.stateMachineArn,
            childStateMachineArns: out.childStateMachineArns,
            taskDefinitions: out.taskDefinitions,
            lambdaFunctions: out.lambdaFunctions,
            definitionHash: out.definitionHash,
            changes: out.changes,
            mutatingCalls: out.mutatingCalls,
          };
          if (opts.json) writeJson(ctx, summary);
          else if (out.dryRun)
            ctx.io.stdout(out.changes.length ? out.changes.map((c) => `${describeChange(c, true)}\n`).join("") + `${out.changes.length} changes planned; nothing was changed\n` : "no changes: everything is already in place\n");
          else
            ctx.io.stdout(
              `${out.stateMachineArn}\n` +
                out.changes.map((c) => `${describeChange(c, false)}\n`).join("") +
                `${Object.keys(out.taskDefinitions).length} ECS and ${Object.keys(out.lambdaFunctions).length} Lambda processors, ${Object.keys(out.childStateMachineArns).length} child machines; ` +
                `${out.mutatingCalls === 0 ? "everything was already in place" : `${out.mutatingCalls} AWS changes`}\n`,
            );
          return EXIT.ok;
        }),
      );
  },
};
