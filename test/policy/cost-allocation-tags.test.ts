import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TAGGABLE_TYPES, UNTAGGABLE_TYPES, costAllocationTags } from "../../lib/policy/cost-allocation-tags";
import { CheckedResource, checkNodePolicies } from "../../lib/policy/rules";
import { parseNodeConfig } from "../../lib/node/config";
import { SynthResult, synthNode } from "../../lib/node/synth";
import { TAG } from "../../lib/model/tags";
import { compileWorkflow, readMarkers } from "../../lib/compile";
import { resolvePlan } from "../../lib/plan/resolve";

const res = (type: string, name: string, inputs: Record<string, unknown>): CheckedResource => ({ type, name, inputs, id: `${name}-id` });

// `aws:ec2/natGateway:NatGateway` → node_modules/@pulumi/aws/ec2/natGateway.d.ts, interface NatGatewayArgs.
function pulumiArgsHaveTags(type: string): boolean | undefined {
  const match = /^aws:([^/]+)\/([^:]+):(.+)$/.exec(type);
  if (!match) return undefined;
  const file = join(__dirname, "../../node_modules/@pulumi/aws", match[1], `${match[2]}.d.ts`);
  if (!existsSync(file)) return undefined;
  const source = readFileSync(file, "utf8");
  const start = source.indexOf(`export interface ${match[3]}Args {`);
  if (start < 0) return undefined;
  const body = source.slice(start, source.indexOf("\n}", start));
  return /\n\s+tags\?:/.test(body);
}

describe("cost-allocation-tags policy", function () {
  this.timeout(120000);

  it("fails a taggable resource without the node and environment tags, naming what is missing", () => {
    const violations = costAllocationTags.check(
      [
        res("aws:ecs/cluster:Cluster", "cn-n1-cluster", {}),
        res("aws:lambda/function:Function", "cn-n1-finalize", { tags: { [TAG.node]: "n1" } }),
        res("aws:dynamodb/table:Table", "cn-n1-joins", { tags: { [TAG.node]: "n1", [TAG.environment]: "" } }),
      ],
      "basic",
    );
    expect(violations.map((v) => [v.resource, v.message])).to.deep.equal([
      ["cn-n1-cluster", `Cluster "cn-n1-cluster" lacks the cost-allocation tags compute-node:node, compute-node:environment: give it the node's tags (nodeTags in lib/model/tags.ts)`],
      ["cn-n1-finalize", `Function "cn-n1-finalize" lacks the cost-allocation tag compute-node:environment: give it the node's tags (nodeTags in lib/model/tags.ts)`],
      ["cn-n1-joins", `Table "cn-n1-joins" lacks the cost-allocation tag compute-node:environment: give it the node's tags (nodeTags in lib/model/tags.ts)`],
    ]);
  });

  it("accepts the tags as an Auto Scaling group's list, or as a real stack's provider-merged tagsAll, and skips types without tags", () => {
    const both = { [TAG.node]: "n1", [TAG.environment]: "prod" };
    const violations = costAllocationTags.check(
      [
        res("aws:autoscaling/group:Group", "cn-n1-gpu-asg", { tags: Object.entries(both).map(([key, value]) => ({ key, value, propagateAtLaunch: true })) }),
        res("aws:s3/bucket:Bucket", "cn-n1-log-archive", { tagsAll: both }),
        res("aws:ec2/route:Route", "cn-n1-private-default", {}),
      ],
      "secure",
    );
    expect(violations).to.deep.equal([]);
  });

  it("runs in every mode, through checkNodePolicies", () => {
    for (const mode of ["basic", "secure", "compliant"] as const)
      expect(checkNodePolicies([res("aws:kms/key:Key", "cn-n1-s3-key", { enableKeyRotation: true, tags: { [TAG.mode]: mode } })], mode).map((v) => v.policy), mode).to.include("cost-allocation-tags");
  });

  describe("on the node program", () => {
    const synths: Record<string, SynthResult> = {};
    before(async () => {
      const extras = { enableLLMAccess: true, baaAcknowledged: true, gpu: { enabled: true }, budget: { monthlyUsd: 50, alertEmails: ["ops@example.org"] }, environment: "prod", tags: { team: "imaging" } };
      for (const mode of ["basic", "secure", "compliant"] as const) synths[mode] = await synthNode(parseNodeConfig({ computeNodeId: "n1", region: "us-east-1", mode, ...extras }));
    });

    it("classifies every resource type the program creates as taggable or not, as @pulumi/aws declares it", () => {
      const types = new Set(Object.values(synths).flatMap((s) => s.resources.map((r) => r.type)));
      const unclassified = [...types].filter((t) => !TAGGABLE_TYPES.has(t) && !UNTAGGABLE_TYPES.has(t));
      expect(unclassified, "add each to TAGGABLE_TYPES or UNTAGGABLE_TYPES in lib/policy/cost-allocation-tags.ts").to.deep.equal([]);
      const wrong = [...TAGGABLE_TYPES, ...UNTAGGABLE_TYPES].filter((t) => {
        const hasTags = pulumiArgsHaveTags(t);
        return hasTags !== undefined && hasTags !== TAGGABLE_TYPES.has(t);
      });
      expect(wrong).to.deep.equal([]);
    });

    it("tags every taggable resource with the node, its environment and the user's own tags, in every mode", () => {
      for (const [mode, synth] of Object.entries(synths)) {
        const resources = synth.resources.filter((r) => TAGGABLE_TYPES.has(r.type));
        expect(resources.length, mode).to.be.greaterThan(20);
        expect(costAllocationTags.check(resources, mode as "basic")).to.deep.equal([]);
        for (const r of resources) {
          const tags = Array.isArray(r.inputs.tags) ? Object.fromEntries((r.inputs.tags as { key: string; value: string }[]).map((t) => [t.key, t.value])) : r.inputs.tags;
          expect(tags, `${mode} ${r.name}`).to.include({ [TAG.node]: "n1", [TAG.environment]: "prod", team: "imaging" });
        }
      }
    });

    it("makes every Fargate task carry its task definition's tags: RunTask propagates them and the Step Functions role may tag on RunTask only", () => {
      const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img:1" }] });
      const compiled = compileWorkflow(plan);
      const run = [...readMarkers(compiled.definition)].find(([, m]) => m.kind === "processor")![0];
      const find = (graph: { States: Record<string, any> }): any => Object.entries(graph.States).map(([n, st]) => (n === run ? st : [...(st.Branches ?? [])].map(find).find(Boolean))).find(Boolean);
      expect(find(compiled.definition).Parameters.PropagateTags).to.equal("TASK_DEFINITION");
      const policy = synths.secure.resources.find((r) => r.name === "cn-n1-state-machine-role-policy")!;
      const statements = JSON.parse(String(policy.inputs.policy)).Statement as { Sid: string; Action: string[]; Condition?: unknown }[];
      expect(statements.find((st) => st.Action.includes("ecs:TagResource"))).to.deep.include({ Sid: "TagProcessorTasks", Condition: { StringEquals: { "ecs:CreateAction": "RunTask" } } });
    });

    it("exports the user's tags, so what the runtime registers carries them too", () => {
      for (const synth of Object.values(synths)) expect(synth.outputs.tags).to.deep.equal({ team: "imaging" });
    });
  });
});
