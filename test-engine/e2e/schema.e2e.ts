import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseNodeConfig } from "../../lib/node/config";
import { synthNode } from "../../lib/node/synth";
import { DeploymentMode } from "../../lib/model/mode";
import { ROOT } from "./harness";

interface PropertySpec {
  type?: string;
  $ref?: string;
  items?: PropertySpec;
  additionalProperties?: PropertySpec;
  oneOf?: PropertySpec[];
}
interface Schema {
  resources: Record<string, { inputProperties?: Record<string, PropertySpec> }>;
  functions: Record<string, unknown>;
  types: Record<string, { properties?: Record<string, PropertySpec> }>;
}

const awsVersion = (require("@pulumi/aws/package.json") as { version: string }).version;
const pluginDir = join(ROOT, ".engine", "pulumi-home", "plugins", `resource-aws-v${awsVersion}`);

/**
 * Every property the node program sets, in every mode with every option on, exists in the schema
 * the built provider serves (its GetSchema, through `pulumi package get-schema`), with the shape
 * (object, list, map, scalar) the program gives it. A property @pulumi/aws has but this build lacks
 * would otherwise only show up as a failed `pulumi up`.
 */
describe("engine e2e: the served schema covers the node program", function () {
  this.timeout(10 * 60_000);
  let schema: Schema;

  before(function () {
    if (!existsSync(join(pluginDir, "pulumi-resource-aws"))) throw new Error(`no AWS provider in ${pluginDir}: run npm run engine:build first`);
    const cli = join(ROOT, ".engine", `pulumi-${(require("@pulumi/pulumi/package.json") as { version: string }).version}`, "bin", "pulumi");
    // The schema as the provider serves it over gRPC, not the file it was loaded from.
    const text = execFileSync(cli, ["package", "get-schema", join(pluginDir, "pulumi-resource-aws")], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PULUMI_HOME: join(ROOT, ".engine", "pulumi-home"), PULUMI_SKIP_UPDATE_CHECK: "true" } });
    schema = JSON.parse(text);
  });

  const full = { gpu: { enabled: true }, enableLLMAccess: true, baaAcknowledged: true, budget: { monthlyUsd: 50, alertEmails: ["ops@example.org"] }, inputBucketArns: ["arn:aws:s3:::inputs-bucket"] };
  for (const mode of ["basic", "secure", "compliant"] as DeploymentMode[])
    it(`${mode} mode with every option: every resource type and input property is served`, async () => {
      const { resources } = await synthNode(parseNodeConfig({ computeNodeId: "schema-check", region: "us-east-1", mode, ...(mode === "basic" ? { ...full, baaAcknowledged: false } : full) }));
      const problems: string[] = [];
      let checked = 0;
      for (const r of resources) {
        if (!r.type.startsWith("aws:")) continue;
        const spec = schema.resources[r.type];
        if (!spec) {
          problems.push(`${r.type} (${r.name}): not served`);
          continue;
        }
        for (const [key, value] of Object.entries(r.inputs)) {
          checked++;
          checkValue(`${r.type}.${key}`, value, spec.inputProperties?.[key], problems);
        }
      }
      expect(problems).to.deep.equal([]);
      expect(checked).to.be.greaterThan(100);
    });

  it("serves the functions the program calls", () => {
    for (const token of [
      "aws:index/getCallerIdentity:getCallerIdentity",
      "aws:index/getPartition:getPartition",
      "aws:index/getAvailabilityZones:getAvailabilityZones",
      "aws:ec2/getVpc:getVpc",
      "aws:ec2/getSubnets:getSubnets",
      "aws:ec2/getRouteTables:getRouteTables",
      "aws:ssm/getParameter:getParameter",
    ])
      expect(schema.functions, token).to.have.property(token);
  });

  // Input properties @pulumi/aws 7.48 has that terraform-provider-aws 6.48-dev (what the module proxy
  // serves) does not: newer upstream features. The node program uses none of them (docs/engine.md).
  const UPSTREAM_NEWER: Record<string, string[]> = {
    "aws:autoscaling/group:Group": ["instanceLifecyclePolicy"],
    "aws:ec2/flowLog:FlowLog": ["tagFieldSpecifications"],
    "aws:lambda/function:Function": ["useResourceTimeoutForPropagation"],
  };

  it("serves each mapped resource with exactly @pulumi/aws's input property names (its Args types)", () => {
    const root = join(ROOT, "node_modules", "@pulumi", "aws");
    const problems: string[] = [];
    const tokens = Object.keys(schema.resources);
    expect(tokens.length, "mapped resources").to.be.greaterThan(30);
    for (const token of tokens) {
      const [, mod, name] = /^aws:([^/]+)\/([^:]+):(.+)$/.exec(token)!;
      const text = readFileSync(join(root, mod === "index" ? "" : mod, `${name}.d.ts`), "utf8");
      const args = new RegExp(`^export interface ${token.split(":").pop()}Args \\{([\\s\\S]*?)^\\}`, "m").exec(text);
      if (!args) {
        problems.push(`${token}: no Args interface in @pulumi/aws`);
        continue;
      }
      const theirs = [...args[1].matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1]).filter((p) => !(UPSTREAM_NEWER[token] ?? []).includes(p));
      const ours = Object.keys(schema.resources[token].inputProperties ?? {});
      for (const p of theirs) if (!ours.includes(p)) problems.push(`${token}.${p}: in @pulumi/aws, not served`);
      for (const p of ours) if (!theirs.includes(p)) problems.push(`${token}.${p}: served, not in @pulumi/aws`);
    }
    expect(problems).to.deep.equal([]);
  });

  function resolveRef(spec: PropertySpec): { properties?: Record<string, PropertySpec> } | undefined {
    const ref = spec.$ref?.replace(/^.*#\/types\//, "");
    return ref ? schema.types[decodeURIComponent(ref)] : undefined;
  }

  function checkValue(path: string, value: unknown, spec: PropertySpec | undefined, problems: string[]) {
    if (!spec) {
      problems.push(`${path}: not in the served schema`);
      return;
    }
    // Synth's mocks leave outputs of other resources unknown: their shape is the provider's to check.
    if (value === undefined || value === null || (typeof value === "object" && (value as Record<string, unknown>).__pulumiUnknown)) return;
    const alternatives = spec.oneOf ?? [spec];
    if (Array.isArray(value)) {
      const list = alternatives.find((a) => a.type === "array");
      if (!list) return void problems.push(`${path}: the program gives a list, the schema has ${JSON.stringify(spec)}`);
      value.forEach((v, i) => checkValue(`${path}[${i}]`, v, list.items, problems));
      return;
    }
    if (typeof value === "object") {
      // Assets and archives are served as pulumi.json#/Archive or /Asset.
      if (alternatives.some((a) => a.$ref?.startsWith("pulumi.json#/"))) return;
      const object = alternatives.map(resolveRef).find(Boolean);
      if (object) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) checkValue(`${path}.${k}`, v, object.properties?.[k], problems);
        return;
      }
      const map = alternatives.find((a) => a.type === "object");
      if (map) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (map.additionalProperties) checkValue(`${path}.${k}`, v, map.additionalProperties, problems);
        return;
      }
      return void problems.push(`${path}: the program gives an object, the schema has ${JSON.stringify(spec)}`);
    }
    const scalar = typeof value === "number" ? ["number", "integer"] : typeof value === "boolean" ? ["boolean"] : ["string"];
    // Enums are served as $ref to a string type; booleans and numbers may come as strings from apply().
    if (!alternatives.some((a) => (a.type && scalar.includes(a.type)) || a.$ref || a.type === "string"))
      problems.push(`${path}: the program gives a ${typeof value}, the schema has ${JSON.stringify(spec)}`);
  }
});
