import { resolve } from "node:path";
import type { Command } from "commander";
import { CliCommand, EXIT } from "../io";
import { runAction, writeJson } from "../action";

export const startCommand: CliCommand = {
  register(program: Command, ctx) {
    program
      .command("start")
      .description(
        "Deploy a workflow on a node and start an execution on Step Functions; prints the execution id. " +
          "Tokens come from PENNSIEVE_SESSION_TOKEN / PENNSIEVE_REFRESH_TOKEN and go only to the execution's own secret.",
      )
      .argument("<workflow>", "workflow JSON file")
      .requiredOption("--node <file>", "the node's stack outputs (pulumi stack output --json)")
      .requiredOption("--processors <file>", "processors file (a JSON array of registrations, or {\"processors\": [...]}; schemas/processors.schema.json)")
      .requiredOption("--invocation <file>", "workflow invocation JSON")
      .option("--input <uri...>", "s3:// inputs DownloadInputs copies into the input dir")
      .option("--outputs <s3-uri>", "after the DAG succeeds, upload every sink processor's outputs to <s3-uri><processorId>/ (a bucket the node's outputBucketArns allow); {workflowInstanceId} is replaced by the run's id; overrides the invocation's outputs")
      .option("--workdir <dir>", "where records go when the node has no executionTableName", ".compute-node")
      .option("--json", "machine-readable output on stdout")
      .action((workflow: string, opts: { node: string; processors: string; invocation: string; input?: string[]; outputs?: string; workdir: string; json?: boolean }) =>
        runAction(ctx, opts, async () => {
          const [{ loadNode, recordStoreFor, startWorkflowExecution }, { loadPlan }] = await Promise.all([import("../../runtime/aws"), import("../load-inputs")]);
          const { node, clients } = loadNode(opts.node, { cwd: ctx.io.cwd, env: ctx.io.env });
          const plan = loadPlan(workflow, { ...opts, mode: node.deploymentMode }, ctx.io.cwd);
          const store = recordStoreFor(node, clients, resolve(ctx.io.cwd, opts.workdir));
          const out = await startWorkflowExecution({ node, plan, clients, store, env: ctx.io.env, inputs: opts.input });
          if (opts.json) writeJson(ctx, { executionId: out.executionId, executionArn: out.executionArn, stateMachineArn: out.stateMachineArn, mutatingCalls: out.deploy.mutatingCalls });
          else ctx.io.stdout(`${out.executionId}\n`);
          return EXIT.ok;
        }),
      );
  },
};
