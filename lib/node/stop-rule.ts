import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stateMachinePrefix } from "../model/names";
import { STOP_EVENT_DETAIL_TYPE, STOP_EVENT_SOURCE, STOP_EVENT_STATUSES } from "../integrations/finalize/contract";

export interface StopRuleArgs {
  computeNodeId: string;
  region: string;
  accountId: pulumi.Input<string>;
  partition: pulumi.Input<string>;
  /** The finalize function, whose handler also takes the rule's events (lib/integrations/finalize/stopped.ts). */
  finalize: aws.lambda.Function;
  tags: Record<string, string>;
}

export interface StopRule {
  rule: aws.cloudwatch.EventRule;
  target: aws.cloudwatch.EventTarget;
  permission: aws.lambda.Permission;
}

/**
 * The event pattern of a node's stop rule: Step Functions status changes to ABORTED, TIMED_OUT or
 * FAILED of this node's machines (`stateMachine:cn-<node>-…`, lib/model/names.ts). Step Functions skips
 * Catch on StopExecution and timeouts, so only this brings cleanup and finalize to those runs.
 */
export function stopEventPattern(machineArnPrefix: string): Record<string, unknown> {
  return {
    source: [STOP_EVENT_SOURCE],
    "detail-type": [STOP_EVENT_DETAIL_TYPE],
    detail: { status: [...STOP_EVENT_STATUSES], stateMachineArn: [{ prefix: machineArnPrefix }] },
  };
}

/** The rule, its target (the finalize function) and the permission that lets EventBridge invoke it for this rule only. */
export function createStopRule(name: string, args: StopRuleArgs, parent: pulumi.Resource): StopRule {
  const prefix = pulumi.interpolate`arn:${args.partition}:states:${args.region}:${args.accountId}:stateMachine:${stateMachinePrefix(args.computeNodeId)}`;
  const rule = new aws.cloudwatch.EventRule(
    `${name}-stop-rule`,
    {
      name: `cn-${args.computeNodeId}-execution-stopped`,
      description: `Finalizes executions of compute node ${args.computeNodeId} that ended ABORTED, TIMED_OUT or FAILED (Step Functions skips Catch on a stop)`,
      eventPattern: prefix.apply((p) => JSON.stringify(stopEventPattern(p))),
      tags: args.tags,
    },
    { parent },
  );
  const permission = new aws.lambda.Permission(
    `${name}-stop-rule-invoke`,
    { action: "lambda:InvokeFunction", function: args.finalize.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
    { parent },
  );
  const target = new aws.cloudwatch.EventTarget(
    `${name}-stop-rule-target`,
    {
      rule: rule.name,
      targetId: "finalize",
      arn: args.finalize.arn,
      // EventBridge retries a failed delivery for up to a day; the handler is idempotent, so a duplicate is harmless.
      retryPolicy: { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 20 },
    },
    { parent, dependsOn: [permission] },
  );
  return { rule, target, permission };
}
