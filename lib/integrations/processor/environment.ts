import { DeploymentMode } from "../../model/mode";

/** The node's static values of processor-guide section 3: on AWS set on the task definition or function, locally taken from the runner's environment. */
export interface NodeStaticValues {
  ENVIRONMENT: string;
  REGION: string;
  DEPLOYMENT_MODE: string;
  PENNSIEVE_API_HOST?: string;
  PENNSIEVE_API_HOST2?: string;
}

/** The per-invocation values of processor-guide section 3. */
export interface InvocationValues {
  inputDir: string;
  outputDir: string;
  workflowInstanceId: string;
  sessionToken: string;
  refreshToken: string;
}

export interface ProcessorEnvironmentInput {
  invocation: InvocationValues;
  node: NodeStaticValues;
  /** What the platform grants this run beyond the contract, e.g. LLM access (ANTHROPIC_BASE_URL and the processor's key). */
  granted?: Record<string, string>;
  /** What the run state itself sets (an ECS container override's Environment and environment files): as the container sees it. */
  delivered?: Record<string, string>;
  /** PATH of the runner, so `localCommand` finds its interpreter. */
  path?: string;
}

/**
 * The whole environment of a local processor: the contract's variables, the node's static values
 * and PATH, nothing else. The runner's own variables (COMPUTE_NODE_API_TOKEN,
 * PULUMI_CONFIG_PASSPHRASE, AWS credentials, anything a shell exported) never reach a processor,
 * as on ECS and Lambda, where a processor sees only what its task definition or function declares.
 * Add a variable the platform delivers on AWS here, and only here.
 */
export function processorEnvironment(input: ProcessorEnvironmentInput): Record<string, string> {
  const { invocation, node } = input;
  return definedOnly({
    ...(input.path !== undefined ? { PATH: input.path } : {}),
    ...node,
    ...input.granted,
    ...input.delivered,
    INPUT_DIR: invocation.inputDir,
    OUTPUT_DIR: invocation.outputDir,
    WORKFLOW_INSTANCE_ID: invocation.workflowInstanceId,
    SESSION_TOKEN: invocation.sessionToken,
    REFRESH_TOKEN: invocation.refreshToken,
  });
}

/** The node's static values of a local run, from the runner's environment where the caller set them. */
export function localNodeValues(hostEnv: NodeJS.ProcessEnv, mode: DeploymentMode): NodeStaticValues {
  return definedOnly({
    ENVIRONMENT: hostEnv.ENVIRONMENT || "local",
    REGION: hostEnv.REGION || hostEnv.AWS_REGION || "local",
    DEPLOYMENT_MODE: mode,
    PENNSIEVE_API_HOST: hostEnv.PENNSIEVE_API_HOST,
    PENNSIEVE_API_HOST2: hostEnv.PENNSIEVE_API_HOST2,
  }) as unknown as NodeStaticValues;
}

/**
 * What the Docker CLI needs to reach its engine. These go to the `docker` process only: the
 * container receives just the variables named with `-e`.
 */
const DOCKER_CLI_VARIABLES = ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "HOME"] as const;

export function dockerCliValues(hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  return definedOnly(Object.fromEntries(DOCKER_CLI_VARIABLES.map((name) => [name, hostEnv[name]])));
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined));
}
