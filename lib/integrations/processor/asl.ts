import { AslObject } from "../../compile/asl/types";
import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { DONE } from "../../compile/asl/state";
import { ComputeType } from "../../model/mode";
import { ProcessorRetry } from "../../model/processor";
import { ECS_TRANSIENT, LAMBDA_TRANSIENT, processorRetry } from "../../compile/asl/retry";
import { TOKEN_PATH } from "../tokens/asl";
import { PROCESSOR_CONTAINER } from "./contract";
import { MAX_TASK_TIMEOUT_SECONDS } from "../../compile/limits";

export { PROCESSOR_CONTAINER };


export interface ProcessorRunProps {
  computeType: ComputeType;
  /** Task definition (ECS) or function name/ARN (Lambda). */
  target: string;
  inputDir: string;
  outputDir: string;
  /** Lambda timeout in seconds; the state waits a little longer so Lambda's own timeout error wins. */
  lambdaTimeout: number;
  retry?: ProcessorRetry;
  comment?: string;
  failState: string;
  /** GPUs requested: Fargate has none, so such a task runs on the cluster's default capacity provider strategy (the node's GPU instances). */
  gpu: number;
  network: { clusterArn: string; subnetIds: string[]; securityGroupIds: string[]; assignPublicIp: boolean };
}

/**
 * The processor's own Task. Its result (which echoes the container overrides, tokens included) is
 * replaced by a constant at the token path, so the tokens do not outlive this state; a failure is
 * caught into a Fail state that keeps only the error name.
 */
export function processorRunTask(p: ProcessorRunProps): TaskState {
  const tokens = { session: `${TOKEN_PATH}.t.sessionToken`, refresh: `${TOKEN_PATH}.t.refreshToken` };
  const common = {
    comment: p.comment,
    resultSelector: { ...DONE },
    resultPath: TOKEN_PATH,
    catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.err", Next: p.failState }],
  };
  if (p.computeType === "ecs") {
    const parameters: AslObject = {
      Cluster: p.network.clusterArn,
      TaskDefinition: p.target,
      ...(p.gpu > 0 ? {} : { LaunchType: "FARGATE" }),
      NetworkConfiguration: {
        AwsvpcConfiguration: { Subnets: p.network.subnetIds, SecurityGroups: p.network.securityGroupIds, AssignPublicIp: p.network.assignPublicIp ? "ENABLED" : "DISABLED" },
      },
      Overrides: {
        ContainerOverrides: [
          {
            Name: PROCESSOR_CONTAINER,
            Environment: [
              { Name: "INPUT_DIR", "Value.$": p.inputDir },
              { Name: "OUTPUT_DIR", "Value.$": p.outputDir },
              { Name: "WORKFLOW_INSTANCE_ID", "Value.$": "$.ctx.workflowInstanceId" },
              { Name: "SESSION_TOKEN", "Value.$": tokens.session },
              { Name: "REFRESH_TOKEN", "Value.$": tokens.refresh },
            ],
          },
        ],
      },
    };
    return new TaskState({ ...common, resource: RESOURCE.ecsRunTaskSync, parameters, timeoutSeconds: MAX_TASK_TIMEOUT_SECONDS, retry: [ECS_TRANSIENT, ...processorRetry(p.retry)] });
  }
  const parameters: AslObject = {
    FunctionName: p.target,
    Payload: {
      "inputDir.$": p.inputDir,
      "outputDir.$": p.outputDir,
      "workflowInstanceId.$": "$.ctx.workflowInstanceId",
      "sessionToken.$": tokens.session,
      "refreshToken.$": tokens.refresh,
    },
  };
  return new TaskState({ ...common, resource: RESOURCE.lambdaInvoke, parameters, timeoutSeconds: p.lambdaTimeout + 60, retry: [LAMBDA_TRANSIENT, ...processorRetry(p.retry)] });
}
