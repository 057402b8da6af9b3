import { AslGraph, AslStateMachine } from "./asl/types";
import { ChoiceState } from "./asl/choice";
import { FailState } from "./asl/fail";
import { ParallelState } from "./asl/parallel";
import { PassState } from "./asl/pass";
import { StateGraph } from "./asl/graph";
import { SucceedState } from "./asl/succeed";
import { CompileTarget } from "./target";
import { EVENTS } from "./limits";
import { cleanupTask, downloadTask } from "../integrations/transfer/asl";
import { finalizeTask } from "../integrations/finalize/asl";
import { intrinsicLiteral } from "./paths";

/** Envelope state names, reserved before any processor is named. */
export const ENVELOPE = {
  checkInputs: "Check inputs",
  initialize: "Initialize",
  initializeNoInputs: "Initialize without inputs",
  download: "DownloadInputs",
  body: "Body",
  cleanup: "Cleanup",
  checkOutcome: "Check outcome",
  finalizeSucceeded: "Finalize succeeded",
  finalizeFailed: "Finalize failed",
  succeeded: "Succeeded",
  failed: "Failed",
} as const;

/** History events of the envelope on the success path, execution start and end included. */
export const ENVELOPE_EVENTS = EVENTS.execution + EVENTS.choice + EVENTS.pass + EVENTS.lambdaTask + EVENTS.parallel + EVENTS.lambdaTask + EVENTS.choice + EVENTS.lambdaTask + EVENTS.succeed;

/**
 * Initialize → DownloadInputs → Body (the DAG, in a Parallel whose Catch still leads to cleanup)
 * → Cleanup → Finalize → Succeed, or Fail when the body failed (docs/asl-contract.md "Envelope").
 * `inputs` is optional in the execution input, and a JSONPath to a missing field is a States.Runtime
 * error that no Catch sees, hence two Initialize states.
 */
export function envelopeMachine(target: CompileTarget, body: AslGraph, comment: string): AslStateMachine {
  const g = new StateGraph("the main machine");
  const root = `${intrinsicLiteral(target.efsMountPath.replace(/\/+$/, ""))}/${intrinsicLiteral(target.computeNodeId)}`;
  const ctx = ({ withInputs }: { withInputs: boolean }) => ({
    ctx: {
      "workflowInstanceId.$": "$.workflowInstanceId",
      computeNodeId: target.computeNodeId,
      "tokenSecretId.$": "$.tokenSecretId",
      "inputDir.$": `States.Format('${root}/input/{}', $.workflowInstanceId)`,
      "workdir.$": `States.Format('${root}/workdir/{}', $.workflowInstanceId)`,
    },
    ...(withInputs ? { "inputs.$": "$.inputs" } : { inputs: [] }),
  });
  g.add(ENVELOPE.checkInputs, new ChoiceState({ choices: [{ Variable: "$.inputs", IsPresent: true, Next: ENVELOPE.initialize }], default: ENVELOPE.initializeNoInputs }));
  g.add(ENVELOPE.initialize, new PassState({ parameters: ctx({ withInputs: true }) })).setNext(ENVELOPE.download);
  g.add(ENVELOPE.initializeNoInputs, new PassState({ parameters: ctx({ withInputs: false }) })).setNext(ENVELOPE.download);

  const download = downloadTask(target.dataTransferFunctionArn, target.computeNodeId, { path: "$.inputs" });
  // The input list is not needed past this point: overwrite it with the (tiny) result.
  download.props.resultPath = "$.inputs";
  download.props.resultSelector = { done: true };
  download.props.catch = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: ENVELOPE.cleanup }];
  g.add(ENVELOPE.download, download).setNext(ENVELOPE.body);

  const bodyState = new ParallelState({ branches: [body], catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: ENVELOPE.cleanup }] });
  g.add(ENVELOPE.body, bodyState).setNext(ENVELOPE.cleanup);

  const cleanup = cleanupTask(target.dataTransferFunctionArn, target.computeNodeId);
  // A failed cleanup leaves files behind but does not undo the processors' outcome.
  cleanup.props.catch = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: ENVELOPE.checkOutcome }];
  g.add(ENVELOPE.cleanup, cleanup).setNext(ENVELOPE.checkOutcome);

  g.add(ENVELOPE.checkOutcome, new ChoiceState({ choices: [{ Variable: "$.error", IsPresent: true, Next: ENVELOPE.finalizeFailed }], default: ENVELOPE.finalizeSucceeded }));
  g.add(ENVELOPE.finalizeSucceeded, finalizeTask(target.finalizeFunctionArn, target.computeNodeId, "SUCCEEDED")).setNext(ENVELOPE.succeeded);
  g.add(ENVELOPE.finalizeFailed, finalizeTask(target.finalizeFunctionArn, target.computeNodeId, "FAILED")).setNext(ENVELOPE.failed);
  g.add(ENVELOPE.succeeded, new SucceedState({ outputPath: "$.ctx" }));
  // The error reaching here is already sanitized (processor failures keep only the error name).
  g.add(ENVELOPE.failed, new FailState({ errorPath: "$.error.Error", causePath: "$.error.Cause" }));
  return { Comment: comment, ...g.toGraphJson(ENVELOPE.checkInputs) };
}
