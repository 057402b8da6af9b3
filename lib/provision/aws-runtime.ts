import { UnavailableError } from "../errors";
import { ExecutionRecord } from "../model/execution-record";
import { NodeRecord } from "./records";
import { StartExecutionRequest, WorkflowRuntime } from "./workflow-runtime";

/**
 * Executions on AWS Step Functions through lib/runtime/aws, for the nodes this service provisioned:
 * the node's stack outputs say where (cluster, roles, subnets, record table).
 */
export class AwsWorkflowRuntime implements WorkflowRuntime {
  readonly backend = "aws" as const;

  async startExecution(_request: StartExecutionRequest): Promise<{ executionId: string }> {
    throw unavailable();
  }

  async getExecution(_node: NodeRecord | undefined, _executionId: string): Promise<ExecutionRecord> {
    throw unavailable();
  }

  async runningExecutionOf(_node: NodeRecord): Promise<string | undefined> {
    return undefined;
  }

  async cleanupNode(_node: NodeRecord, _options: { force: boolean }): Promise<void> {
    return undefined;
  }
}

function unavailable() {
  return new UnavailableError("the AWS workflow runtime is not wired into the service yet: run the service with --local for executions");
}
