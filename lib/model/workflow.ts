import { z } from "zod";

export const WorkflowProcessorSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .regex(/^[^\u0000-\u001f]+$/, "must not contain control characters")
      .describe("Unique id of this node in the workflow's DAG; dependsOn, processorConfigs and the execution record name processors by it."),
    sourceUrl: z.string().min(1).describe("Container image reference (e.g. ghcr.io/org/tool:1.0), resolved against the processor registrations by exact match, else by repository."),
    dependsOn: z.array(z.string()).default([]).describe("Ids of the processors whose output this one reads; several are merged into one INPUT_DIR."),
  })
  .strict()
  .describe("One processor of the workflow.");

export const workflowShape = {
  name: z.string().min(1).describe("Name of the workflow; names its state machine on a node."),
  description: z.string().optional().describe("What the workflow does, for people."),
  processors: z.array(WorkflowProcessorSchema).min(1).describe("The DAG: every processor with the processors it depends on. It must be acyclic."),
};

/** A workflow definition: a DAG of processors (processor-guide "Defining a Workflow"). */
export const WorkflowSchema = z.object(workflowShape).strict().describe("A compute-node workflow: a DAG of containerised processors.");

export type WorkflowProcessor = z.output<typeof WorkflowProcessorSchema>;
export type WorkflowInput = z.input<typeof WorkflowSchema>;
export type Workflow = z.output<typeof WorkflowSchema>;
