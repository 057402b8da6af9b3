import { z } from "zod";

export const WorkflowProcessorSchema = z
  .object({
    /** Unique id of this node in the workflow's DAG. */
    id: z.string().min(1).regex(/^[^\u0000-\u001f]+$/, "must not contain control characters"),
    /** Image reference, resolved against processor registrations. */
    sourceUrl: z.string().min(1),
    /** Ids of the processors whose output this one reads. @default [] */
    dependsOn: z.array(z.string()).default([]),
  })
  .strict();

/** A workflow definition: a DAG of processors (processor-guide "Defining a Workflow"). */
export const WorkflowSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    processors: z.array(WorkflowProcessorSchema).min(1),
  })
  .strict();

export type WorkflowProcessor = z.output<typeof WorkflowProcessorSchema>;
export type WorkflowInput = z.input<typeof WorkflowSchema>;
export type Workflow = z.output<typeof WorkflowSchema>;
