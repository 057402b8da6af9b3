import { expect } from "chai";
import { resolvePlan } from "../../lib/plan/resolve";
import { ValidationError, ValidationIssue } from "../../lib/errors";

function issuesOf(fn: () => unknown): ValidationIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).code).to.equal("validation_failed");
    return (err as ValidationError).issues;
  }
  expect.fail("expected a ValidationError");
}

const wf = (processors: { id: string; sourceUrl?: string; dependsOn?: string[] }[]) => ({
  name: "wf",
  processors: processors.map((p) => ({ sourceUrl: `ghcr.io/org/${p.id}:1`, ...p })),
});

describe("resolvePlan", () => {
  it("orders processors topologically and gives each a unique hash", () => {
    const plan = resolvePlan(wf([{ id: "d", dependsOn: ["b", "c"] }, { id: "b", dependsOn: ["a"] }, { id: "c", dependsOn: ["a"] }, { id: "a" }]));
    expect(plan.processors.map((p) => p.id)).to.deep.equal(["a", "b", "c", "d"]);
    expect(new Set(plan.processors.map((p) => p.hash)).size).to.equal(4);
    expect(plan.processors[0].dependants).to.deep.equal(["b", "c"]);
  });

  it("defaults every processor to ECS with the workflow's sourceUrl when no registrations are given", () => {
    const plan = resolvePlan(wf([{ id: "a" }]));
    expect(plan.processors[0]).to.include({ computeType: "ecs", image: "ghcr.io/org/a:1", cpu: 0.5, memory: 1024 });
  });

  it("rejects a duplicate processor id at the second occurrence", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }, { id: "b" }, { id: "a", sourceUrl: "ghcr.io/org/a2:1" }])));
    const dup = issues.find((i) => i.code === "duplicate_processor_id")!;
    expect(dup).to.deep.include({ path: ["workflow", "processors", 2, "id"], processorId: "a" });
  });

  it("rejects a dependsOn that names an unknown processor, listing the known ones", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }, { id: "b", dependsOn: ["a", "trim"] }])));
    expect(issues).to.have.length(1);
    expect(issues[0]).to.deep.include({ code: "unknown_dependency", path: ["workflow", "processors", 1, "dependsOn", 1], processorId: "b" });
    expect(issues[0].message).to.contain('"trim"').and.contain("a, b");
  });

  it("rejects a cycle and prints it in execution order", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a", dependsOn: ["c"] }, { id: "b", dependsOn: ["a"] }, { id: "c", dependsOn: ["b"] }, { id: "free" }])));
    const cycle = issues.find((i) => i.code === "cycle")!;
    expect(cycle.path.slice(0, 2)).to.deep.equal(["workflow", "processors"]);
    expect(cycle.message).to.match(/dependency cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });

  it("rejects a processor that depends on itself", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a", dependsOn: ["a"] }])));
    expect(issues[0]).to.deep.include({ code: "self_dependency", processorId: "a", path: ["workflow", "processors", 0, "dependsOn", 0] });
  });

  it("rejects a sourceUrl that matches no registration, naming the registered ones", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }, { id: "b" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1" }] }));
    expect(issues).to.have.length(1);
    expect(issues[0]).to.deep.include({ code: "unresolved_source_url", path: ["workflow", "processors", 1, "sourceUrl"], processorId: "b" });
    expect(issues[0].message).to.contain("ghcr.io/org/b:1").and.contain("ghcr.io/org/a:1");
  });

  it("resolves a sourceUrl with another tag to the single registration of the same repository", () => {
    const plan = resolvePlan(wf([{ id: "a", sourceUrl: "ghcr.io/org/a:2" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["lambda"] }] });
    expect(plan.processors[0].computeType).to.equal("lambda");
  });

  it("rejects an executionTarget outside the processor's computeTypes", () => {
    const issues = issuesOf(() =>
      resolvePlan(wf([{ id: "a" }]), {
        processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["ecs"] }],
        invocation: { workflowInstanceConfiguration: { processorConfigs: [{ nodeId: "a", executionTarget: "lambda" }] } },
      }),
    );
    expect(issues[0]).to.deep.include({
      code: "unsupported_execution_target",
      processorId: "a",
      path: ["invocation", "workflowInstanceConfiguration", "processorConfigs", 0, "executionTarget"],
    });
  });

  it("rejects a computeTypeOverrides entry outside the processor's computeTypes", () => {
    const issues = issuesOf(() =>
      resolvePlan(wf([{ id: "a" }]), {
        processors: [{ sourceUrl: "ghcr.io/org/a:1", uuid: "u-a", computeTypes: ["ecs"] }],
        invocation: { params: { computeTypeOverrides: { "u-a": "lambda" } } },
      }),
    );
    expect(issues[0]).to.deep.include({ code: "unsupported_compute_type_override", processorId: "a", path: ["invocation", "params", "computeTypeOverrides", "u-a"] });
  });

  it("lets a computeTypeOverrides entry win over executionTarget and the computeTypes order", () => {
    const plan = resolvePlan(wf([{ id: "a" }]), {
      processors: [{ sourceUrl: "ghcr.io/org/a:1", uuid: "u-a", computeTypes: ["lambda", "ecs"] }],
      invocation: { workflowInstanceConfiguration: { processorConfigs: [{ nodeId: "a", executionTarget: "lambda" }] }, params: { computeTypeOverrides: { "u-a": "ecs" } } },
    });
    expect(plan.processors[0].computeType).to.equal("ecs");
  });

  it("rejects a Lambda processor in compliant mode at the registration's computeTypes", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["lambda"] }], mode: "compliant" }));
    expect(issues[0]).to.deep.include({ code: "lambda_in_compliant_mode", processorId: "a", path: ["processors", 0, "computeTypes"] });
  });

  it("rejects a Lambda processor in compliant mode at the invocation field that chose Lambda", () => {
    const issues = issuesOf(() =>
      resolvePlan(wf([{ id: "a" }]), {
        processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["ecs", "lambda"] }],
        invocation: { workflowInstanceConfiguration: { processorConfigs: [{ nodeId: "a", executionTarget: "lambda" }] } },
        mode: "compliant",
      }),
    );
    expect(issues[0]).to.deep.include({ code: "lambda_in_compliant_mode", path: ["invocation", "workflowInstanceConfiguration", "processorConfigs", 0, "executionTarget"] });
  });

  it("accepts the same Lambda processor in secure mode", () => {
    const plan = resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["lambda"] }], mode: "secure" });
    expect(plan.processors[0]).to.include({ computeType: "lambda", memory: 3008 });
  });

  it("rejects a CPU/memory pair that is not a Fargate size", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", cpu: 1, memory: 1024 }] }));
    expect(issues[0]).to.deep.include({ code: "invalid_resources", processorId: "a", path: ["processors", 0, "memory"] });
    expect(issues[0].message).to.contain("memory 1024 MiB is not valid with 1 vCPU");
  });

  it("rejects a vCPU count Fargate does not offer", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", cpu: 3, memory: 8192 }] }));
    expect(issues[0].message).to.contain("cpu 3 vCPU is not a Fargate size");
  });

  it("gives the plan vCPU whether the registration wrote vCPU or ECS CPU units", () => {
    const plan = resolvePlan(wf([{ id: "a" }, { id: "b" }, { id: "c" }]), {
      processors: [
        { sourceUrl: "ghcr.io/org/a:1", cpu: 1024, memory: 2048 },
        { sourceUrl: "ghcr.io/org/b:1", cpu: 1, memory: 2048 },
        { sourceUrl: "ghcr.io/org/c:1", cpu: "1 vCPU", memory: 2048 },
      ],
    });
    expect(plan.processors.map((p) => p.cpu)).to.deep.equal([1, 1, 1]);
    expect(plan.registrations.map((r) => r.cpu)).to.deep.equal([1, 1, 1]);
  });

  it("points a registration's resource problem at its index in the processors file, not at the workflow", () => {
    const issues = issuesOf(() =>
      resolvePlan(wf([{ id: "a" }, { id: "b" }]), { processors: [{ sourceUrl: "ghcr.io/org/b:1" }, { sourceUrl: "ghcr.io/org/unused:1" }, { sourceUrl: "ghcr.io/org/a:1", cpu: 3, memory: 8192 }] }),
    );
    expect(issues).to.have.length(1);
    expect(issues[0]).to.deep.include({ code: "invalid_resources", processorId: "a", path: ["processors", 2, "cpu"] });
    expect(issues[0].message).to.contain("cpu 3 vCPU is not a Fargate size").and.contain("256, 512, 1024");
  });

  it("reports a registration two processors share once, naming both", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a", sourceUrl: "img:1" }, { id: "b", sourceUrl: "img:1" }]), { processors: [{ sourceUrl: "img:1", cpu: 2, memory: 1024 }] }));
    expect(issues).to.have.length(1);
    expect(issues[0]).to.deep.include({ processorId: "a", path: ["processors", 0, "memory"] });
    expect(issues[0].message).to.contain('also affects "b"');
  });

  it("says when the memory that does not fit the cpu is the default, and to set it", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", cpu: 4096 }] }));
    expect(issues[0].path).to.deep.equal(["processors", 0, "memory"]);
    expect(issues[0].message).to.equal("memory defaults to 1024 MiB, which is not valid with 4 vCPU on Fargate (allowed: 8192–30720 in steps of 1024 MiB): set memory");
  });

  it("refuses 1536 MiB with 0.25 vCPU, which Fargate does not offer", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", cpu: 256, memory: 1536 }] }));
    expect(issues[0].message).to.contain("allowed: 512, 1024 or 2048 MiB");
  });

  it("points each Lambda resource problem at its field of the registration", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["lambda"], memory: 20480, timeout: 1200, gpu: 1 }] }));
    expect(issues.map((i) => i.path)).to.deep.equal([
      ["processors", 0, "memory"],
      ["processors", 0, "timeout"],
      ["processors", 0, "gpu"],
    ]);
  });

  it("rejects Lambda memory above 10,240 MiB and a timeout above 900 s", () => {
    const issues = issuesOf(() => resolvePlan(wf([{ id: "a" }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1", computeTypes: ["lambda"], memory: 20480, timeout: 1200 }] }));
    expect(issues.map((i) => i.code)).to.deep.equal(["invalid_resources", "invalid_resources"]);
    expect(issues.map((i) => i.message).join("\n")).to.contain("memory 20480 MiB").and.contain("timeout 1200 s");
  });

  it("collects every problem of a workflow before failing", () => {
    const issues = issuesOf(() =>
      resolvePlan(wf([{ id: "a" }, { id: "a", sourceUrl: "ghcr.io/org/a2:1" }, { id: "b", dependsOn: ["zzz"] }]), { processors: [{ sourceUrl: "ghcr.io/org/a:1" }, { sourceUrl: "ghcr.io/org/a2:1" }, { sourceUrl: "ghcr.io/org/b:1", cpu: 0.3 }] }),
    );
    expect(issues.map((i) => i.code).sort()).to.deep.equal(["duplicate_processor_id", "invalid_resources", "unknown_dependency"]);
  });

  it("reports schema errors with the field path", () => {
    const issues = issuesOf(() => resolvePlan({ name: "wf", processors: [{ id: "a" }] }));
    expect(issues[0].path).to.deep.equal(["workflow", "processors", 0, "sourceUrl"]);
  });
});
