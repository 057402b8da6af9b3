import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";

export const cleanupCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("cleanup")
      .description(
        "Delete what executions registered on a node: with --workflow, that workflow's state machines and the functions and task definitions only it used; " +
          "without, every proc-lambda-<node>-* function, task definition and state machine of the node. Refuses while an execution runs unless --force.",
      )
      .requiredOption("--node <file>", "the node's stack outputs (pulumi stack output --json)")
      .option("--workflow <name>", "only what this workflow definition used")
      .option("--force", "stop running executions first")
      .option("--json", "machine-readable output on stdout")
      .action((opts: { node: string; workflow?: string; force?: boolean; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const { loadNode, cleanupNodeResources, cleanupWorkflow } = await import("../../runtime/aws");
          const { node, clients } = loadNode(opts.node, { cwd: ctx.io.cwd, env: ctx.io.env });
          const common = { computeNodeId: node.computeNodeId, region: node.region, force: !!opts.force, clients };
          const result = opts.workflow ? await cleanupWorkflow({ ...common, workflowName: opts.workflow }) : await cleanupNodeResources(common);
          if (opts.json) writeJson(ctx, result);
          else
            ctx.io.stdout(
              `deleted ${result.deletedFunctions.length} functions, ${result.deletedStateMachines.length} state machines, ${result.deregisteredTaskDefinitions.length} task definitions` +
                (result.pendingNetworkInterfaces.length ? `; ${result.pendingNetworkInterfaces.length} Lambda ENIs are still being released by AWS` : "") +
                "\n",
            );
          return EXIT.ok;
        }),
      );
  },
};
