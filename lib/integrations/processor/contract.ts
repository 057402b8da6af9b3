/**
 * The processor contract as the platform delivers it (processor-guide sections 3–4): the container
 * every task definition runs, and the environment variables each invocation gets. Dependency-free.
 */

/** The container every task definition runs the processor in (the run state's override targets it by name). */
export const PROCESSOR_CONTAINER = "processor";

/** Per-invocation variables, set by the run state (ECS container override, or Lambda payload fields). */
export const INVOCATION_ENV = ["INPUT_DIR", "OUTPUT_DIR", "WORKFLOW_INSTANCE_ID", "SESSION_TOKEN", "REFRESH_TOKEN"] as const;

/** Per-node variables, set on the task definition or function at registration. */
export const NODE_ENV = ["ENVIRONMENT", "REGION", "DEPLOYMENT_MODE", "PENNSIEVE_API_HOST", "PENNSIEVE_API_HOST2"] as const;
