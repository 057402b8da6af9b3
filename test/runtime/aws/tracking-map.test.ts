import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistoryEvent } from "@aws-sdk/client-sfn";
import { resolvePlan } from "../../../lib/plan/resolve";
import { compileWorkflow, readMarkers } from "../../../lib/compile";
import { FileRecordStore } from "../../../lib/runtime/local/record-store";
import { refreshExecutionStatus } from "../../../lib/runtime/aws/tracking";
import { createRateLimits } from "../../../lib/runtime/aws/rate-limit";
import { AwsClients } from "../../../lib/runtime/aws/clients";

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe("refreshExecutionStatus with a Map of twins", () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("attributes each Map iteration to its own processor, so one failed twin does not fail the others", async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-track-map-"));
    const twins = ["t1", "t2", "t3", "t4"];
    const plan = resolvePlan(
      { name: "fan", processors: [{ id: "a", sourceUrl: "img-a:1" }, ...twins.map((id) => ({ id, sourceUrl: "img-t:1", dependsOn: ["a"] }))] },
      { processors: [{ sourceUrl: "img-a:1" }, { sourceUrl: "img-t:1" }], mode: "secure" },
    );
    const compiled = compileWorkflow(plan, { target: { computeNodeId: "n1" } });
    const inner = [...readMarkers(compiled.definition)].find(([, m]) => m.kind === "processor" && m.processorIds.length === 4);
    expect(inner, "a Map run state").to.not.equal(undefined);
    const hash = Object.fromEntries(plan.processors.map((p) => [p.id, p.hash]));
    const events: HistoryEvent[] = [{ id: 1, type: "ExecutionStarted", timestamp: t(0) }];
    let id = 1;
    for (const [i, twin] of twins.entries()) {
      const entered = ++id;
      events.push({ id: entered, previousEventId: 1, type: "TaskStateEntered", timestamp: t(10 + i), stateEnteredEventDetails: { name: inner![0], input: JSON.stringify({ ctx: {}, p: { id: twin, h: hash[twin] } }) } });
      events.push({ id: ++id, previousEventId: entered, type: "TaskScheduled", timestamp: t(10 + i), taskScheduledEventDetails: { resourceType: "ecs", resource: "runTask.sync", region: "us-east-1", parameters: "{}" } });
      const outcome = ++id;
      if (twin === "t2") {
        events.push({ id: outcome, previousEventId: id - 1, type: "TaskFailed", timestamp: t(30), taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: JSON.stringify({ Containers: [{ ExitCode: 2 }] }) } });
        events.push({ id: ++id, previousEventId: outcome, type: "PassStateEntered", timestamp: t(30), stateEnteredEventDetails: { name: "some failure pass", input: "{}" } });
      } else events.push({ id: outcome, previousEventId: id - 1, type: "TaskSucceeded", timestamp: t(40 + i), taskSucceededEventDetails: { resourceType: "ecs", resource: "runTask.sync", output: "{}" } });
    }
    const sfn = {
      send: async (command: { constructor: { name: string } }) => {
        switch (command.constructor.name) {
          case "DescribeExecutionCommand":
            return { status: "RUNNING" };
          case "DescribeStateMachineForExecutionCommand":
            return { definition: JSON.stringify(compiled.definition) };
          case "GetExecutionHistoryCommand":
            return { events };
        }
        throw new Error(`unexpected ${command.constructor.name}`);
      },
    };
    const clients = { sfn, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as unknown as AwsClients;
    const store = new FileRecordStore(dir);
    await store.create({
      executionId: "wi-1", workflowInstanceId: "wi-1", backend: "aws", computeNodeId: "n1", executionArn: "arn:aws:states:us-east-1:123456789012:execution:m:wi-1",
      createdAt: t(0).toISOString(), status: "RUNNING",
      snapshot: { workflow: plan.workflow, processors: plan.registrations, invocation: plan.invocation, mode: plan.mode, resolved: plan.processors.map((p) => ({ id: p.id, uuid: p.uuid, image: p.image, computeType: p.computeType, cpu: p.cpu, memory: p.memory, hash: p.hash })), definitionHash: "h" },
      processors: Object.fromEntries(plan.processors.map((p) => [p.id, { status: "NOT_STARTED" as const }])),
    });
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients });
    expect(twins.map((x) => record.processors[x].status)).to.deep.equal(["SUCCEEDED", "FAILED", "SUCCEEDED", "SUCCEEDED"]);
    expect(record.processors.t2).to.deep.include({ exitCode: 2, startedAt: t(11).toISOString() });
    expect(record.processors.t4.finishedAt).to.equal(t(43).toISOString());
  });
});
