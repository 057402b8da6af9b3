import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HistoryEvent } from "@aws-sdk/client-sfn";
import { resolvePlan } from "../../../lib/plan/resolve";
import { compileWorkflow, readMarkers } from "../../../lib/compile";
import { FileRecordStore } from "../../../lib/runtime/file-record-store";
import { createFinishedIterations, refreshExecutionStatus } from "../../../lib/runtime/aws/tracking";
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

  it("follows exact mode's Distributed Map into each iteration's own execution and attributes its processor", async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-track-exact-"));
    const plan = resolvePlan(
      { name: "n", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1" }, { id: "c", sourceUrl: "img-c:1", dependsOn: ["a", "b"] }, { id: "d", sourceUrl: "img-d:1", dependsOn: ["b"] }] },
      { processors: ["a", "b", "c", "d"].map((x) => ({ sourceUrl: `img-${x}:1` })), mode: "secure" },
    );
    const compiled = compileWorkflow(plan, { target: { computeNodeId: "n1" }, structure: "exact" });
    const runState = new Map([...readMarkers(compiled.definition)].filter(([, m]) => m.kind === "processor").map(([name, m]) => [m.processorIds[0], name]));
    const mainArn = "arn:aws:states:us-east-1:123456789012:execution:m:wi-1";
    const mapRunArn = "arn:aws:states:us-east-1:123456789012:mapRun:m/Exact-body:run-1";
    const iterationArn = (id: string) => `arn:aws:states:us-east-1:123456789012:execution:m/Exact-body:cached-${id}`;
    const historyReads: string[] = [];
    const main: HistoryEvent[] = [
      { id: 1, type: "ExecutionStarted", timestamp: t(0) },
      { id: 2, previousEventId: 1, type: "MapStateEntered", timestamp: t(1), stateEnteredEventDetails: { name: "Exact body", input: "{}" } },
      { id: 3, previousEventId: 2, type: "MapRunStarted", timestamp: t(1), mapRunStartedEventDetails: { mapRunArn } },
    ];
    // a and b succeeded, c's container exited 3, d is still running.
    const iteration = (id: string, start: number, outcome?: "ok" | "exit3"): HistoryEvent[] => {
      const events: HistoryEvent[] = [
        { id: 1, type: "ExecutionStarted", timestamp: t(start) },
        { id: 2, previousEventId: 1, type: "TaskStateEntered", timestamp: t(start), stateEnteredEventDetails: { name: runState.get(id)!, input: "{}" } },
        { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: t(start), taskScheduledEventDetails: { resourceType: "ecs", resource: "runTask.sync", region: "us-east-1", parameters: "{}" } },
      ];
      if (outcome === "ok") events.push({ id: 4, previousEventId: 3, type: "TaskSucceeded", timestamp: t(start + 5), taskSucceededEventDetails: { resourceType: "ecs", resource: "runTask.sync", output: "{}" } });
      if (outcome === "exit3") {
        events.push({ id: 4, previousEventId: 3, type: "TaskFailed", timestamp: t(start + 5), taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: JSON.stringify({ Containers: [{ ExitCode: 3 }] }) } });
        events.push({ id: 5, previousEventId: 4, type: "FailStateEntered", timestamp: t(start + 5), stateEnteredEventDetails: { name: "some fail", input: "{}" } });
      }
      return events;
    };
    const histories: Record<string, HistoryEvent[]> = {
      [mainArn]: main,
      [iterationArn("a")]: iteration("a", 2, "ok"),
      [iterationArn("b")]: iteration("b", 2, "ok"),
      [iterationArn("c")]: iteration("c", 8, "exit3"),
      [iterationArn("d")]: iteration("d", 8),
    };
    const sfn = {
      send: async (command: { constructor: { name: string }; input: { executionArn?: string; mapRunArn?: string } }) => {
        switch (command.constructor.name) {
          case "DescribeExecutionCommand":
            return { status: "RUNNING" };
          case "DescribeStateMachineForExecutionCommand":
            if (command.input.executionArn !== mainArn) throw new Error("iterations are read with their parent's definition");
            return { definition: JSON.stringify(compiled.definition) };
          case "GetExecutionHistoryCommand":
            historyReads.push(command.input.executionArn!);
            return { events: histories[command.input.executionArn!] };
          case "ListExecutionsCommand":
            expect(command.input.mapRunArn).to.equal(mapRunArn);
            // a, b and c have ended; d is still running.
            return { executions: ["a", "b", "c", "d"].map((id) => ({ executionArn: iterationArn(id), ...(id !== "d" ? { stopDate: t(20) } : {}) })) };
        }
        throw new Error(`unexpected ${command.constructor.name}`);
      },
    };
    const clients = { sfn, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as unknown as AwsClients;
    const store = new FileRecordStore(dir);
    await store.create({
      executionId: "wi-1", workflowInstanceId: "wi-1", backend: "aws", computeNodeId: "n1", executionArn: mainArn,
      createdAt: t(0).toISOString(), status: "RUNNING",
      snapshot: { workflow: plan.workflow, processors: plan.registrations, invocation: plan.invocation, mode: plan.mode, resolved: plan.processors.map((p) => ({ id: p.id, uuid: p.uuid, image: p.image, computeType: p.computeType, cpu: p.cpu, memory: p.memory, hash: p.hash })), definitionHash: "h" },
      processors: Object.fromEntries(plan.processors.map((p) => [p.id, { status: "NOT_STARTED" as const }])),
    });
    // The caller keeps what it has read (the service keeps one per runtime), not the module.
    const finishedIterations = createFinishedIterations();
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients, finishedIterations });
    expect(["a", "b", "c", "d"].map((x) => record.processors[x].status)).to.deep.equal(["SUCCEEDED", "SUCCEEDED", "FAILED", "STARTED"]);
    expect(record.processors.c).to.deep.include({ exitCode: 3, startedAt: t(8).toISOString(), finishedAt: t(13).toISOString() });
    // A finished iteration's history cannot change: the next refresh reads only the main execution and d.
    historyReads.length = 0;
    const again = await refreshExecutionStatus({ executionId: "wi-1", store, clients, finishedIterations });
    expect(historyReads.sort()).to.deep.equal([iterationArn("d"), mainArn].sort());
    expect(["a", "b", "c", "d"].map((x) => again.processors[x].status)).to.deep.equal(["SUCCEEDED", "SUCCEEDED", "FAILED", "STARTED"]);
  });

  it("keeps a processor STARTED while its retry backs off, whatever another iteration's events are numbered", async () => {
    dir = await mkdtemp(join(tmpdir(), "cn-track-retry-"));
    const plan = resolvePlan(
      { name: "n", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1" }, { id: "c", sourceUrl: "img-c:1", dependsOn: ["a", "b"] }] },
      { processors: ["a", "b", "c"].map((x) => ({ sourceUrl: `img-${x}:1` })), mode: "secure" },
    );
    const compiled = compileWorkflow(plan, { target: { computeNodeId: "n1" }, structure: "exact" });
    const runState = new Map([...readMarkers(compiled.definition)].filter(([, m]) => m.kind === "processor").map(([name, m]) => [m.processorIds[0], name]));
    const mainArn = "arn:aws:states:us-east-1:123456789012:execution:m:wi-1";
    const mapRunArn = "arn:aws:states:us-east-1:123456789012:mapRun:m/Exact-body:run-1";
    const iterationArn = (id: string) => `arn:aws:states:us-east-1:123456789012:execution:m/Exact-body:${id}`;
    const main: HistoryEvent[] = [
      { id: 1, type: "ExecutionStarted", timestamp: t(0) },
      { id: 2, previousEventId: 1, type: "MapStateEntered", timestamp: t(1), stateEnteredEventDetails: { name: "Exact body", input: "{}" } },
      { id: 3, previousEventId: 2, type: "MapRunStarted", timestamp: t(1), mapRunStartedEventDetails: { mapRunArn } },
    ];
    const start = (id: string): HistoryEvent[] => [
      { id: 1, type: "ExecutionStarted", timestamp: t(2) },
      { id: 2, previousEventId: 1, type: "TaskStateEntered", timestamp: t(2), stateEnteredEventDetails: { name: runState.get(id)!, input: "{}" } },
      { id: 3, previousEventId: 2, type: "TaskScheduled", timestamp: t(2), taskScheduledEventDetails: { resourceType: "ecs", resource: "runTask.sync", region: "us-east-1", parameters: "{}" } },
    ];
    // a: first attempt failed, its Retry is backing off (nothing after the failure yet).
    const a = [...start("a"), { id: 4, previousEventId: 3, type: "TaskFailed", timestamp: t(7), taskFailedEventDetails: { resourceType: "ecs", resource: "runTask.sync", error: "States.TaskFailed", cause: "{}" } }] as HistoryEvent[];
    // b: succeeded and moved on to its Release.
    const b = [
      ...start("b"),
      { id: 4, previousEventId: 3, type: "TaskSucceeded", timestamp: t(7), taskSucceededEventDetails: { resourceType: "ecs", resource: "runTask.sync", output: "{}" } },
      { id: 5, previousEventId: 4, type: "TaskStateExited", timestamp: t(7), stateExitedEventDetails: { name: runState.get("b")!, output: "{}" } },
    ] as HistoryEvent[];
    const histories: Record<string, HistoryEvent[]> = { [mainArn]: main, [iterationArn("a")]: a, [iterationArn("b")]: b, [iterationArn("c")]: [{ id: 1, type: "ExecutionStarted", timestamp: t(2) }] };
    const sfn = {
      send: async (command: { constructor: { name: string }; input: { executionArn?: string } }) => {
        switch (command.constructor.name) {
          case "DescribeExecutionCommand": return { status: "RUNNING" };
          case "DescribeStateMachineForExecutionCommand": return { definition: JSON.stringify(compiled.definition) };
          case "GetExecutionHistoryCommand": return { events: histories[command.input.executionArn!] };
          case "ListExecutionsCommand": return { executions: ["a", "b", "c"].map((id) => ({ executionArn: iterationArn(id) })) };
        }
        throw new Error(`unexpected ${command.constructor.name}`);
      },
    };
    const clients = { sfn, limits: createRateLimits(), mutations: { calls: [] }, region: "us-east-1" } as unknown as AwsClients;
    const store = new FileRecordStore(dir);
    await store.create({
      executionId: "wi-1", workflowInstanceId: "wi-1", backend: "aws", computeNodeId: "n1", executionArn: mainArn, createdAt: t(0).toISOString(), status: "RUNNING",
      snapshot: { workflow: plan.workflow, processors: plan.registrations, invocation: plan.invocation, mode: plan.mode, resolved: plan.processors.map((p) => ({ id: p.id, uuid: p.uuid, image: p.image, computeType: p.computeType, cpu: p.cpu, memory: p.memory, hash: p.hash })), definitionHash: "h" },
      processors: Object.fromEntries(plan.processors.map((p) => [p.id, { status: "NOT_STARTED" as const }])),
    });
    const record = await refreshExecutionStatus({ executionId: "wi-1", store, clients });
    expect(record.processors.a.status).to.equal("STARTED");
  });
});
