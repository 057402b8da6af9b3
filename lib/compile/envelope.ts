import { AslGraph, AslStateMachine } from "./asl/types";
import { ChoiceState } from "./asl/choice";
import { FailState } from "./asl/fail";
import { ParallelState } from "./asl/parallel";
import { PassState } from "./asl/pass";
import { StateGraph } from "./asl/graph";
import { SucceedState } from "./asl/succeed";
import { CompileTarget } from "./target";
import { EVENTS } from "./limits";
import { cleanupTask, downloadTask, uploadTask } from "../integrations/transfer/asl";
import { finalizeTask } from "../integrations/finalize/asl";
import { intrinsicLiteral } from "./paths";

/** Envelope state names, reserved before any processor is named. */
export const ENVELOPE = {
  checkInputs: "Check inputs",
  initialize: "Initialize",
  initializeNoInputs: "Initialize without inputs",
  initializeWithOutputs: "Initialize with outputs",
  initializeNoInputsWithOutputs: "Initialize with outputs without inputs",
  download: "DownloadInputs",
  body: "Body",
  checkOutputs: "Check outputs",
  upload: "UploadOutputs",
  cleanup: "Cleanup",
  checkOutcome: "Check outcome",
  finalizeSucceeded: "Finalize succeeded",
  finalizeFailed: "Finalize failed",
  succeeded: "Succeeded",
  failed: "Failed",
} as const;

/** History events of the envelope on the success path with an upload, execution start and end included. */
export const ENVELOPE_EVENTS =
  EVENTS.execution + EVENTS.choice + EVENTS.pass + EVENTS.lambdaTask + EVENTS.parallel + EVENTS.choice + EVENTS.lambdaTask + EVENTS.lambdaTask + EVENTS.choice + EVENTS.lambdaTask + EVENTS.succeed;

/** A sink processor: no processor depends on it, so its OUTPUT_DIR is a result of the run. */
export interface SinkOutput {
  processorId: string;
  hash: string;
}

/**
 * Initialize → DownloadInputs → Body (the DAG, in a Parallel whose Catch still leads to cleanup)
 * → UploadOutputs (when the execution input names `outputs`) → Cleanup → Finalize → Succeed, or Fail
 * when the body or the upload failed (docs/asl-contract.md "Envelope"). `inputs` is optional in the
 * execution input, as is `outputs`, and a JSONPath to a missing field is a States.Runtime error that
 * no Catch sees, hence four Initialize states and the Choice before the upload.
 */
export function envelopeMachine(target: CompileTarget, body: AslGraph, comment: string, sinks: SinkOutput[]): AslStateMachine {
  const g = new StateGraph("the main machine");
  const root = `${intrinsicLiteral(target.efsMountPath.replace(/\/+$/, ""))}/${intrinsicLiteral(target.computeNodeId)}`;
  const ctx = ({ withInputs, withOutputs }: { withInputs: boolean; withOutputs: boolean }) => ({
    ctx: {
      "workflowInstanceId.$": "$.workflowInstanceId",
      computeNodeId: target.computeNodeId,
      "tokenSecretId.$": "$.tokenSecretId",
      "inputDir.$": `States.Format('${root}/input/{}', $.workflowInstanceId)`,
      "workdir.$": `States.Format('${root}/workdir/{}', $.workflowInstanceId)`,
    },
    ...(withInputs ? { "inputs.$": "$.inputs" } : { inputs: [] }),
    ...(withOutputs ? { "outputs.$": "$.outputs" } : {}),
  });
  const present = (field: string) => ({ Variable: `$.${field}`, IsPresent: true });
  g.add(
    ENVELOPE.checkInputs,
    new ChoiceState({
      choices: [
        { And: [present("inputs"), present("outputs")], Next: ENVELOPE.initializeWithOutputs },
        { ...present("inputs"), Next: ENVELOPE.initialize },
        { ...present("outputs"), Next: ENVELOPE.initializeNoInputsWithOutputs },
      ],
      default: ENVELOPE.initializeNoInputs,
    }),
  );
  g.add(ENVELOPE.initialize, new PassState({ parameters: ctx({ withInputs: true, withOutputs: false }) })).setNext(ENVELOPE.download);
  g.add(ENVELOPE.initializeNoInputs, new PassState({ parameters: ctx({ withInputs: false, withOutputs: false }) })).setNext(ENVELOPE.download);
  g.add(ENVELOPE.initializeWithOutputs, new PassState({ parameters: ctx({ withInputs: true, withOutputs: true }) })).setNext(ENVELOPE.download);
  g.add(ENVELOPE.initializeNoInputsWithOutputs, new PassState({ parameters: ctx({ withInputs: false, withOutputs: true }) })).setNext(ENVELOPE.download);

  const download = downloadTask(target.dataTransferFunctionArn, target.computeNodeId, { path: "$.inputs" });
  // The input list is not needed past this point: overwrite it with the (tiny) result.
  download.props.resultPath = "$.inputs";
  download.props.resultSelector = { done: true };
  download.props.catch = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: ENVELOPE.cleanup }];
  g.add(ENVELOPE.download, download).setNext(ENVELOPE.body);

  const bodyState = new ParallelState({ branches: [body], catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: ENVELOPE.cleanup }] });
  g.add(ENVELOPE.body, bodyState).setNext(ENVELOPE.checkOutputs);

  // Only a body that succeeded uploads; its Catch goes straight to Cleanup.
  g.add(ENVELOPE.checkOutputs, new ChoiceState({ choices: [{ Variable: "$.outputs", IsPresent: true, Next: ENVELOPE.upload }], default: ENVELOPE.cleanup }));
  const upload = uploadTask(target.dataTransferFunctionArn, target.computeNodeId, sinks);
  // Results that did not reach the destination fail the run; they stay on EFS (Cleanup never removes OUTPUT_DIRs).
  upload.props.catch = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: ENVELOPE.cleanup }];
  g.add(ENVELOPE.upload, upload).setNext(ENVELOPE.cleanup);

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
