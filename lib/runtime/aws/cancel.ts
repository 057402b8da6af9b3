import { StopExecutionCommand } from "@aws-sdk/client-sfn";
import { ConflictError, NotFoundError } from "../../errors";
import { ExecutionRecord, isTerminalExecutionStatus } from "../../model/execution-record";
import { ExecutionRecordStore } from "../../model/record-store";
import { AwsClients } from "./clients";
import { isNotFound, toRuntimeError } from "./errors";
import { CANCEL_CAUSE, refreshExecutionStatus } from "./tracking";
import { deleteTokenSecret } from "../../integrations/tokens/aws";
import { tokenSecretName } from "../../integrations/tokens/contract";
import { systemClock } from "../../clock";

export interface StopWorkflowExecutionOptions {
  executionId: string;
  store: ExecutionRecordStore;
  clients: AwsClients;
  /** The node's env-file bucket, passed on to the refresh that follows the stop. @default none */
  envFileBucket?: string;
}

export { CANCEL_CAUSE };

/**
 * Cancels an execution: the record goes CANCELING, Step Functions stops the execution, and the
 * refreshed record is returned (CANCELED once Step Functions reports it ABORTED). Calling it again
 * while CANCELING stops again, which is harmless. An execution that already ended is a
 * ConflictError naming its status; an unknown id is a NotFoundError.
 */
export async function stopWorkflowExecution(options: StopWorkflowExecutionOptions): Promise<ExecutionRecord> {
  const { executionId, store, clients } = options;
  const stored = await store.get(executionId);
  if (!stored) throw new NotFoundError(`no execution "${executionId}" in the execution record store`);
  // The record may lag behind Step Functions: an execution that has just ended is not canceled.
  const record = stored.executionArn && stored.status !== "CANCELING" ? await refreshExecutionStatus(options) : stored;
  if (isTerminalExecutionStatus(record.status))
    throw new ConflictError(`execution "${executionId}" has already ended ${record.status}: there is nothing to cancel`, executionId);
  if (record.status !== "CANCELING") await store.updateExecution(executionId, { status: "CANCELING" });
  // A start whose ARN was never recorded still has its deterministic ARN (machine + instance id).
  const executionArn = record.executionArn ?? (record.stateMachineArn ? `${record.stateMachineArn.replace(":stateMachine:", ":execution:")}:${record.workflowInstanceId}` : undefined);
  let neverStarted = !executionArn;
  if (executionArn)
    await clients.limits
      .run("sfn:StopExecution", () => clients.sfn.send(new StopExecutionCommand({ executionArn, error: "Canceled", cause: CANCEL_CAUSE })))
      .catch((err) => {
        if (!record.executionArn && isNotFound(err)) neverStarted = true;
        else throw toRuntimeError(err, `StopExecution ${executionArn}`);
      });
  if (neverStarted) {
    await deleteTokenSecret(clients.secrets, tokenSecretName(record.computeNodeId, record.workflowInstanceId), { limit: (call) => clients.limits.run("secretsmanager:DeleteSecret", call) }).catch(() => undefined);
    return store.updateExecution(executionId, { status: "CANCELED", finishedAt: systemClock().toISOString(), error: { error: "Canceled", cause: `${CANCEL_CAUSE} before the execution started` } });
  }
  return refreshExecutionStatus(options);
}
