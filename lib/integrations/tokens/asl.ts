import { TaskState } from "../../compile/asl/task";
import { RESOURCE } from "../../compile/asl/resources";
import { SECRETS_TRANSIENT } from "../../compile/asl/retry";

/** Where the tokens live between ResolveToken and the processor's own run state, which overwrites them. */
export const TOKEN_PATH = "$.tok";

/** Reads the per-execution secret just before one processor runs (processor-guide "Credential handling"). */
export function resolveTokenTask(): TaskState {
  return new TaskState({
    resource: RESOURCE.getSecretValue,
    parameters: { "SecretId.$": "$.ctx.tokenSecretId" },
    resultSelector: { "t.$": "States.StringToJson($.SecretString)" },
    resultPath: TOKEN_PATH,
    timeoutSeconds: 60,
    retry: [SECRETS_TRANSIENT],
  });
}
