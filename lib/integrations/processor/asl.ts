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
  /** ECS: the execution's environment file (an S3 object ARN as a JSONPath-mode value, tokens/asl.ts envFileArnValue). */
  envFile: string;
}

/**
 * Where a failed run's error lands: over the tokens, so no state after a failure (the abort of
 * exact mode, the Fail state) receives them. Read the error name at `${RUN_ERROR_PATH}.Error`.
 */
export const RUN_ERROR_PATH = TOKEN_PATH;

/**
 * The processor's own Task. An ECS processor gets its tokens from the execution's environment
 * file (`EnvironmentFiles`, written by the envFileTask just before), so no token is in its
 * parameters or in any state; a Lambda processor gets them in its payload (the contract), from
 * `$.tok`, which its result (a constant) or its caught error then overwrites. A failure is caught
 * into a Fail state that keeps only the error name.
 */
export function processorRunTask(p: ProcessorRunProps): TaskState {
  const common = {
    comment: p.comment,
    resultSelector: { ...DONE },
    resultPath: TOKEN_PATH,
    catch: [{ ErrorEquals: ["States.ALL"], ResultPath: RUN_ERROR_PATH, Next: p.failState }],
  };
  if (p.computeType === "ecs") {
    const parameters: AslObject = {
      Cluster: p.network.clusterArn,
      TaskDefinition: p.target,
      ...(p.gpu > 0 ? {} : { LaunchType: "FARGATE" }),
      // The task carries its task definition's tags (node, environment: docs/node.md "Cost allocation"), so Cost Explorer can split Fargate spend.
      PropagateTags: "TASK_DEFINITION",
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
            ],
            // SESSION_TOKEN and REFRESH_TOKEN: fetched by the ECS agent with the task execution role.
            EnvironmentFiles: [{ Type: "s3", "Value.$": p.envFile }],
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
      "sessionToken.$": `${TOKEN_PATH}.t.sessionToken`,
      "refreshToken.$": `${TOKEN_PATH}.t.refreshToken`,
    },
  };
  return new TaskState({ ...common, resource: RESOURCE.lambdaInvoke, parameters, timeoutSeconds: p.lambdaTimeout + 60, retry: [LAMBDA_TRANSIENT, ...processorRetry(p.retry)] });
}
