import { z } from "zod";

/** Security scope of a compute node; see compute-nodes-guide "Deployment Modes". */
export const DeploymentModeSchema = z.enum(["basic", "secure", "compliant"]);
export type DeploymentMode = z.infer<typeof DeploymentModeSchema>;

export const ComputeTypeSchema = z.enum(["ecs", "lambda"]);
export type ComputeType = z.infer<typeof ComputeTypeSchema>;
