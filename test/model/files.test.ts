import { expect } from "chai";
import { readFile, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import Ajv from "ajv";
import { FILE_SCHEMAS, renderFileJsonSchemas } from "../../lib/model/files";
import { renderCostReportJsonSchema } from "../../lib/cost/schema";
import { parseInvocation, parseProcessors, parseWorkflow } from "../../lib/model/validate";
import { ValidationError, ValidationIssue } from "../../lib/errors";

const root = resolve(__dirname, "../..");
const example = join(root, "examples/text-pipeline");

function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  expect.fail("expected a ValidationError");
}

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

describe("the JSON Schema files", () => {
  it("are committed exactly as npm run schemas generates them", async () => {
    const committed = (await readdir(join(root, "schemas"))).filter((f) => f.endsWith(".json")).sort();
    const generated = { ...renderFileJsonSchemas(), ...renderCostReportJsonSchema() };
    expect(committed, "run npm run schemas").to.deep.equal(Object.keys(generated).sort());
    for (const [file, text] of Object.entries(generated)) expect(await readFile(join(root, "schemas", file), "utf8"), `schemas/${file} is stale: run npm run schemas`).to.equal(text);
  });

  it("are referenced by the example files and accept them", async () => {
    const ajv = new Ajv({ allErrors: true });
    for (const [file, name] of [["workflow.json", "workflow"], ["processors.json", "processors"], ["invocation.json", "invocation"]]) {
      const document = await readJson(join(example, file));
      expect(document.$schema, file).to.equal(`../../schemas/${name}.schema.json`);
      const validate = ajv.compile(await readJson(join(example, document.$schema)));
      expect(validate(document), `${file}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
    }
  });

  it("refuse in the editor what compute-node refuses: an unknown key, a cpu that is neither vCPU nor CPU units", async () => {
    const ajv = new Ajv({ allErrors: true });
    const workflow = ajv.compile(await readJson(join(root, "schemas/workflow.schema.json")));
    expect(workflow({ name: "w", processors: [{ id: "a", sourceUrl: "x", depends_on: [] }] })).to.equal(false);
    const processors = ajv.compile(await readJson(join(root, "schemas/processors.schema.json")));
    for (const cpu of [1000, 32, 0, "2 cores"]) expect(processors([{ sourceUrl: "x", cpu }]), String(cpu)).to.equal(false);
    for (const cpu of [0.25, 16, 256, 16384, "1024", "1 vCPU"]) expect(processors({ processors: [{ sourceUrl: "x", cpu }] }), String(cpu)).to.equal(true);
    const invocation = ajv.compile(await readJson(join(root, "schemas/invocation.schema.json")));
    expect(invocation({ workflowInstanceConfiguration: { computeNodeId: "../../x" } })).to.equal(false);
  });

  it("describe every property, so editors show help as users type", () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (!node || typeof node !== "object") return;
      const properties = (node as { properties?: Record<string, { description?: string; $ref?: string }> }).properties;
      for (const [key, value] of Object.entries(properties ?? {})) if (!value.description && !value.$ref) undocumented.push(`${where}.${key}`);
      for (const [key, value] of Object.entries(node)) walk(value, `${where}.${key}`);
    };
    for (const [file, text] of Object.entries(renderFileJsonSchemas())) walk(JSON.parse(text), file);
    expect(undocumented).to.deep.equal([]);
  });

  it("ship in the package", async function () {
    this.timeout(30000);
    const { stdout } = await promisify(execFile)("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root });
    const packed = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(packed).to.include.members(Object.keys(FILE_SCHEMAS).map((file) => `schemas/${file}`));
  });

  it("cover exactly the three files users write", () => {
    expect(Object.keys(FILE_SCHEMAS)).to.deep.equal(["workflow.schema.json", "processors.schema.json", "invocation.schema.json"]);
  });
});

describe("parsing the files users write", () => {
  it("accepts a top-level $schema in each file and leaves it out of what it returns", () => {
    expect(parseWorkflow({ $schema: "x.json", name: "w", processors: [{ id: "a", sourceUrl: "img" }] })).to.not.have.property("$schema");
    expect(parseInvocation({ $schema: "x.json" })).to.not.have.property("$schema");
    expect(parseProcessors({ $schema: "x.json", processors: [{ sourceUrl: "img" }] })).to.deep.equal([{ sourceUrl: "img", computeTypes: ["ecs"] }]);
  });

  it("gives the processors file the same paths in its array and its object form", () => {
    const bad = [{ sourceUrl: "a" }, { sourceUrl: "b", memory: -1 }];
    expect(issuesOf(() => parseProcessors(bad))[0].path).to.deep.equal(["processors", 1, "memory"]);
    expect(issuesOf(() => parseProcessors({ processors: bad }))[0].path).to.deep.equal(["processors", 1, "memory"]);
  });

  it("places an issue of the processors file's object form at processors, not at an empty path", () => {
    const issue = issuesOf(() => parseProcessors({ processor: [] })).find((i) => i.code === "unrecognized_keys")!;
    expect(issue.path).to.deep.equal(["processors"]);
    expect(issue.message).to.contain('did you mean "processors"?');
  });

  it("says what the processors file must be when it is neither form", () => {
    const [issue] = issuesOf(() => parseProcessors("img"));
    expect(issue.path).to.deep.equal(["processors"]);
    expect(issue.message).to.contain("array of processor registrations").and.contain('{"processors": [...]}');
  });

  it("suggests dependsOn for depends_on in a workflow processor, at that processor's path", () => {
    const [issue] = issuesOf(() => parseWorkflow({ name: "w", processors: [{ id: "a", sourceUrl: "img" }, { id: "b", sourceUrl: "img", depends_on: ["a"] }] }));
    expect(issue).to.deep.include({ code: "unrecognized_keys", path: ["workflow", "processors", 1] });
    expect(issue.message).to.equal('unknown key "depends_on": did you mean "dependsOn"?');
  });

  it("suggests the key that differs by case, a separator or one letter in every file", () => {
    const message = (fn: () => unknown) => issuesOf(fn).find((i) => i.code === "unrecognized_keys")!.message;
    expect(message(() => parseWorkflow({ Name: "w", processors: [{ id: "a", sourceUrl: "img" }] }))).to.contain('did you mean "name"?');
    expect(message(() => parseProcessors([{ sourceUrl: "img", computeType: ["ecs"] }]))).to.contain('did you mean "computeTypes"?');
    expect(message(() => parseProcessors({ processors: [{ source_url: "img" }, { sourceUrl: "img" }] }))).to.contain('did you mean "sourceUrl"?');
    expect(message(() => parseInvocation({ workflowInstanceConfiguration: { processorConfigs: [{ nodeId: "a", execution_target: "ecs" }] } }))).to.contain('did you mean "executionTarget"?');
  });

  it("lists the known keys when no key is close", () => {
    const [issue] = issuesOf(() => parseWorkflow({ name: "w", processors: [{ id: "a", sourceUrl: "img", colour: "red" }] }));
    expect(issue.message).to.equal('unknown key "colour" (known keys: id, sourceUrl, dependsOn)');
  });

  it("names every unknown key of one object in one issue", () => {
    const [issue] = issuesOf(() => parseProcessors([{ sourceUrl: "img", cpus: 1, colour: "red" }]));
    expect(issue.message).to.contain('"cpus" (did you mean "cpu"?)').and.contain('"colour"').and.contain("known keys: sourceUrl");
  });

  it("refuses a near miss of an invocation key, whose value would be ignored, and lets other unknown keys through", () => {
    const issues = issuesOf(() => parseInvocation({ params: { computeTypeOverride: { u: "ecs" } }, workflowInstanceConfiguration: { processorConfig: [] }, packageIDs: ["p"] }));
    expect(issues.map((i) => [i.path.join("."), i.message])).to.have.deep.members([
      ["invocation.params", 'unknown key "computeTypeOverride": did you mean "computeTypeOverrides"?'],
      ["invocation.workflowInstanceConfiguration", 'unknown key "processorConfig": did you mean "processorConfigs"?'],
      ["invocation", 'unknown key "packageIDs": did you mean "packageIds"?'],
    ]);
    const passed = parseInvocation({ platformField: 1, workflowInstanceConfiguration: { workflowVersion: "3" }, params: { priority: "high" } });
    expect(passed).to.include({ platformField: 1 });
    expect(passed.workflowInstanceConfiguration).to.include({ workflowVersion: "3" });
  });
});
