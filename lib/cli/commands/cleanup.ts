import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";
import type { CleanupResult } from "../../runtime/aws";

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
      .option("--dry-run", "list what would be deleted (and stopped, with --force) without changing anything")
      .option("--json", "machine-readable output on stdout")
      .action((opts: { node: string; workflow?: string; force?: boolean; dryRun?: boolean; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const { loadNode, cleanupNodeResources, cleanupWorkflow } = await import("../../runtime/aws");
          const { node, clients } = loadNode(opts.node, { cwd: ctx.io.cwd, env: ctx.io.env });
          const common = { computeNodeId: node.computeNodeId, region: node.region, force: !!opts.force, dryRun: !!opts.dryRun, clients };
          const result = opts.workflow ? await cleanupWorkflow({ ...common, workflowName: opts.workflow }) : await cleanupNodeResources(common);
          if (opts.json) writeJson(ctx, { dryRun: !!result.dryRun, ...result });
          else ctx.io.stdout(formatCleanup(result));
          return EXIT.ok;
        }),
      );
  },
};

/** One line per resource, then the counts: what was deleted, or on a dry run what would be. */
function formatCleanup(result: CleanupResult): string {
  const verb = (done: string, planned: string) => (result.dryRun ? `would ${planned}` : done);
  const lines = [
    ...result.stoppedExecutions.map((x) => `${verb("stopped", "stop")} execution ${x}`),
    ...result.deletedFunctions.map((x) => `${verb("deleted", "delete")} function ${x}`),
    ...result.deletedNetworkInterfaces.map((x) => `${verb("deleted", "delete")} network interface ${x}`),
    ...result.deletedStateMachines.map((x) => `${verb("deleted", "delete")} state machine ${x}`),
    ...result.deregisteredTaskDefinitions.map((x) => `${verb("deregistered", "deregister")} task definition ${x}`),
    ...result.deletedSecrets.map((x) => `${verb("deleted", "delete")} secret ${x}`),
    ...result.releasedResources.map((x) => `${verb("released", "release")} ${x} (another workflow still uses it)`),
  ];
  const counts =
    `${result.dryRun ? "would delete" : "deleted"} ${result.deletedFunctions.length} functions, ${result.deletedStateMachines.length} state machines, ${result.deregisteredTaskDefinitions.length} task definitions` +
    (result.pendingNetworkInterfaces.length ? `; ${result.pendingNetworkInterfaces.length} Lambda ENIs are still being released by AWS (${result.pendingNetworkInterfaces.join(", ")})` : "") +
    (result.dryRun ? "; nothing was changed" : "");
  return [...lines, counts].map((l) => `${l}\n`).join("");
}
