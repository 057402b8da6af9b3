import { Command } from "commander";
import { NodeOutputs } from "../../model/node-outputs";
import { AwsClients, createAwsClients } from "../../runtime/aws/clients";
import { deployWorkflow } from "../../runtime/aws/executions";
import { parseNodeOutputs } from "../../runtime/aws/node";
import { CliCommand, CliContext, EXIT } from "../io";
import { loadPlan, readJsonFile } from "../load-inputs";
import { runAction, writeJson } from "../action";

/** Reads NODE.json (`pulumi stack output --json`) and builds clients for its region; AWS_ENDPOINT_URL is honoured. */
export function loadNode(ctx: CliContext, path: string): { node: NodeOutputs; clients: AwsClients } {
  const node = parseNodeOutputs(readJsonFile(path, "--node", ctx.io.cwd));
  return { node, clients: createAwsClients({ region: node.region, env: ctx.io.env }) };
}

export const deployCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("deploy")
      .description("Register a workflow's processors (task definitions, Lambda functions) on a node and create or update its state machine. Repeating it changes nothing.")
      .argument("<workflow>", "workflow JSON file")
      .requiredOption("--node <file>", "the node's stack outputs (pulumi stack output --json)")
      .requiredOption("--processors <file>", "JSON array of processor registrations")
      .option("--invocation <file>", "workflow invocation JSON (processorConfigs, computeTypeOverrides)")
      .option("--json", "machine-readable output on stdout")
      .action((workflow: string, opts: { node: string; processors: string; invocation?: string; json?: boolean }) =>
        runAction(ctx, !!opts.json, async () => {
          const { node, clients } = loadNode(ctx, opts.node);
          const plan = loadPlan(workflow, { ...opts, mode: node.deploymentMode }, ctx.io.cwd);
          const out = await deployWorkflow({ node, plan, clients });
          const summary = {
            stateMachineArn: out.stateMachineArn,
            childStateMachineArns: out.childStateMachineArns,
            taskDefinitions: out.taskDefinitions,
            lambdaFunctions: out.lambdaFunctions,
            definitionHash: out.definitionHash,
            mutatingCalls: out.mutatingCalls,
          };
          if (opts.json) writeJson(ctx, summary);
          else
            ctx.io.stdout(
              `${out.stateMachineArn}\n` +
                `${Object.keys(out.taskDefinitions).length} ECS and ${Object.keys(out.lambdaFunctions).length} Lambda processors, ${Object.keys(out.childStateMachineArns).length} child machines; ` +
                `${out.mutatingCalls === 0 ? "everything was already in place" : `${out.mutatingCalls} AWS changes`}\n`,
            );
          return EXIT.ok;
        }),
      );
  },
};
