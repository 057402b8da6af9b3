import { z } from "zod";
import { workflowShape } from "./workflow";
import { ProcessorRegistrationSchema } from "./processor";
import { invocationShape } from "./invocation";
import { refuseNearMissKeys } from "./suggest";

/**
 * The three files users write, as editors see them: each also takes a top-level `"$schema"` naming
 * its JSON Schema (see schemas/), which compute-node ignores. The processors file is a JSON array
 * of registrations, or `{"$schema": …, "processors": [...]}` so that it can name its schema too.
 */
const SchemaReferenceSchema = z
  .string()
  .describe("Where this file's JSON Schema is, for editors: a path relative to this file or a URL. compute-node ignores it.");

export const WorkflowFileSchema = z
  .object({ $schema: SchemaReferenceSchema.optional(), ...workflowShape })
  .strict()
  .meta({ title: "compute-node workflow", description: "A workflow definition: a DAG of containerised processors (compute-node validate WORKFLOW)." });

// Named, so both forms of the file share one definition in the JSON Schema.
export const ProcessorRegistrationsSchema = z
  .array(ProcessorRegistrationSchema.meta({ id: "ProcessorRegistration", description: ProcessorRegistrationSchema.description }))
  .describe("The processor registrations.");

export const ProcessorsObjectFileSchema = z
  .object({ $schema: SchemaReferenceSchema.optional(), processors: ProcessorRegistrationsSchema })
  .strict()
  .describe("The processor registrations, with a $schema reference for editors.");

/** Both forms, as the JSON Schema shows them; parsing picks the form by the value's shape, so its issues are the ones of that form. */
export const ProcessorsFileSchema = z.union([ProcessorRegistrationsSchema, ProcessorsObjectFileSchema]).meta({
  title: "compute-node processor registrations",
  description: 'The registrations workflows resolve their sourceUrls against (--processors FILE): an array of registrations, or {"$schema": …, "processors": [...]}.',
});

export const InvocationFileSchema = z
  .object({ $schema: SchemaReferenceSchema.optional(), ...invocationShape })
  .passthrough()
  .superRefine(refuseNearMissKeys(["$schema", ...Object.keys(invocationShape)]))
  .meta({ title: "compute-node workflow invocation", description: "How a workflow is run: which node, which dataset and packages, per-processor versions and runtimes (--invocation FILE)." });

export type WorkflowFile = z.input<typeof WorkflowFileSchema>;
export type ProcessorsFile = z.input<typeof ProcessorsFileSchema>;
export type InvocationFile = z.input<typeof InvocationFileSchema>;

/** The JSON Schema files under schemas/ and the zod schema each is generated from. */
export const FILE_SCHEMAS = {
  "workflow.schema.json": WorkflowFileSchema,
  "processors.schema.json": ProcessorsFileSchema,
  "invocation.schema.json": InvocationFileSchema,
} as const;

/** The JSON Schema (draft-07, what every editor understands) of a file schema, describing what users write. */
export function fileJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", target: "draft-7", unrepresentable: "throw" }) as Record<string, unknown>;
}

/** The contents of every schemas/ file, as `npm run schemas` writes them. */
export function renderFileJsonSchemas(): Record<keyof typeof FILE_SCHEMAS, string> {
  const out = {} as Record<keyof typeof FILE_SCHEMAS, string>;
  for (const [file, schema] of Object.entries(FILE_SCHEMAS) as [keyof typeof FILE_SCHEMAS, z.ZodType][]) out[file] = JSON.stringify(fileJsonSchema(schema), null, 2) + "\n";
  return out;
}
