import { expect } from "chai";
import "../../lib/runtime/local/polyfill";
import { compileWorkflow, readMarkers, AslStateMachine, CompiledWorkflow } from "../../lib/compile";
import { planOf, Edges } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require("aws-local-stepfunctions") as {
  StateMachine: new (definition: unknown, options?: unknown) => { run(input: unknown, options?: unknown): { result: Promise<unknown> } };
};

const SESSION = "S3CRET-session-token";
const EXECUTION_CONTEXT = { Execution: { Id: "arn:aws:states:us-east-1:000000000000:execution:test:wi-1", Name: "wi-1" } };
const REFRESH = "S3CRET-refresh-token";

class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Trace {
  events: string[];
  finalize: unknown[];
  tokensSeen: Map<string, string>;
}

/**
 * Runs compiled machines in aws-local-stepfunctions with stand-in services keyed by the markers,
 * like the real integrations: the ECS one echoes the container overrides in its result and, on a
 * non-zero exit, in the error cause.
 */
async function execute(compiled: CompiledWorkflow, plan: ReturnType<typeof planOf>, failing: string[] = []): Promise<{ output?: unknown; error?: Error; trace: Trace }> {
  const byHash = new Map(plan.processors.map((p) => [p.hash, p.id]));
  const trace: Trace = { events: [], finalize: [], tokensSeen: new Map() };
  // The S3 stand-in: environment files by key, as the tokens function wrote them.
  const envFiles = new Map<string, Record<string, string>>();
  const handlersFor = (machine: AslStateMachine): Record<string, (input: unknown) => Promise<unknown>> => {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, marker] of readMarkers(machine)) {
      handlers[name] = async (input: unknown) => {
        const i = input as Record<string, any>;
        switch (marker.kind) {
          case "resolve-token":
            // A Lambda processor's ResolveToken reads the secret; an ECS processor's tokens function writes its environment file.
            if (i.SecretId) return { SecretString: JSON.stringify({ sessionToken: SESSION, refreshToken: REFRESH }) };
            if (i.Payload.action !== "env-file") return { StatusCode: 200, Payload: { refreshed: false } };
            envFiles.set(`/execution-env/${i.Payload.computeNodeId}/${i.Payload.workflowInstanceId}.env`, { SESSION_TOKEN: SESSION, REFRESH_TOKEN: REFRESH });
            return { StatusCode: 200, Payload: { envFile: "s3 object" } };
          case "processor": {
            const files = i.Overrides?.ContainerOverrides[0].EnvironmentFiles ?? [];
            const fromFiles = Object.assign({}, ...files.map((f: { Value: string }) => envFiles.get(f.Value.slice(f.Value.indexOf("/execution-env/")))));
            const env: Record<string, string> = i.Overrides
              ? { ...fromFiles, ...Object.fromEntries(i.Overrides.ContainerOverrides[0].Environment.map((e: { Name: string; Value: string }) => [e.Name, e.Value])) }
              : { OUTPUT_DIR: i.Payload.outputDir, SESSION_TOKEN: i.Payload.sessionToken };
            const id = byHash.get(env.OUTPUT_DIR.split("/").pop()!)!;
            trace.tokensSeen.set(id, env.SESSION_TOKEN);
            trace.events.push(`start ${id}`);
            await new Promise((r) => setTimeout(r, 5 + (id.charCodeAt(0) % 7) * 3));
            trace.events.push(`end ${id}`);
            if (failing.includes(id)) throw new TaskError("States.TaskFailed", JSON.stringify({ StoppedReason: "Essential container in task exited", Containers: [{ ExitCode: 3 }], Overrides: i.Overrides }));
            return { Overrides: i.Overrides, Containers: [{ ExitCode: 0 }] };
          }
          case "merge":
          case "download":
          case "cleanup":
            return { StatusCode: 200, Payload: { ok: true } };
          case "finalize":
            trace.finalize.push(i.Payload);
            return { StatusCode: 200, Payload: {} };
          case "child": {
            const child = compiled.children[marker.child!];
            const output = await new StateMachine(child).run(i.Input, { overrides: { taskResourceLocalHandlers: handlersFor(child) }, context: EXECUTION_CONTEXT }).result;
            return { Output: JSON.stringify(output) };
          }
          default:
            throw new Error(`no stand-in for ${marker.kind}`);
        }
      };
    }
    return handlers;
  };
  const input = { workflowInstanceId: "wi-1", computeNodeId: "local", tokenSecretId: "arn:aws:secretsmanager:us-east-1:000000000000:secret:cn/local/wi-1" };
  try {
    const output = await new StateMachine(compiled.definition).run(input, { overrides: { taskResourceLocalHandlers: handlersFor(compiled.definition) }, context: EXECUTION_CONTEXT }).result;
    return { output, trace };
  } catch (error) {
    return { error: error as Error, trace };
  }
}

function expectOrder(deps: Edges, events: string[]) {
  for (const [id, parents] of Object.entries(deps)) {
    expect(events.filter((e) => e === `start ${id}`), id).to.have.length(1);
    for (const p of parents) expect(events.indexOf(`end ${p}`), `${p} ends before ${id} starts`).to.be.lessThan(events.indexOf(`start ${id}`));
  }
}

describe("compiled machines on aws-local-stepfunctions", () => {
  const nShape: Edges = { a: [], b: [], c: ["a", "b"], d: ["b"], e: ["c", "d"] };

  it("runs every processor once after its dependencies, hands it the tokens and keeps them out of the output", async () => {
    const plan = planOf(nShape);
    const { output, error, trace } = await execute(compileWorkflow(plan), plan);
    expect(error).to.equal(undefined);
    expectOrder(nShape, trace.events);
    expect([...trace.tokensSeen.values()]).to.deep.equal(Array(5).fill(SESSION));
    expect(JSON.stringify(output)).to.not.contain("S3CRET");
    // The execution's own ARN lets finalize read its history and archive logs per processor.
    expect(trace.finalize).to.deep.equal([{ action: "finalize", computeNodeId: "local", workflowInstanceId: "wi-1", status: "SUCCEEDED", executionArn: "arn:aws:states:us-east-1:000000000000:execution:test:wi-1" }]);
  });

  it("finalizes FAILED without tokens when a processor exits non-zero, and ends the execution failed", async () => {
    const plan = planOf(nShape);
    const { error, trace } = await execute(compileWorkflow(plan), plan, ["c"]);
    expect(error).to.be.instanceOf(Error);
    expect(String(error)).to.not.contain("S3CRET");
    expect(trace.events).to.not.include("start e");
    expect(trace.finalize).to.have.length(1);
    const payload = trace.finalize[0] as { status: string; error: { Error: string; Cause: string } };
    expect(payload.status).to.equal("FAILED");
    expect(payload.error).to.deep.equal({ Error: "States.TaskFailed", Cause: 'processor "c" failed' });
    expect(JSON.stringify(trace.finalize)).to.not.contain("S3CRET");
  });

  it("runs Map groups and child machines with the same guarantees", async () => {
    const deps: Edges = { split: [], ...Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`w${i}`, ["split"]])), x: ["split"], join: ["w0", "w1", "w2", "w3", "w4", "x"], tail: ["x"] };
    const plan = planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/worker:1" : `registry.example/${id}:1`) });
    const compiled = compileWorkflow(plan, { limits: { historyEvents: 90 } });
    expect(Object.keys(compiled.children).length).to.be.greaterThan(0);
    const { output, error, trace } = await execute(compiled, plan);
    expect(error, String((error as { cause?: unknown })?.cause)).to.equal(undefined);
    expectOrder(deps, trace.events);
    expect(JSON.stringify(output)).to.not.contain("S3CRET");
  });

  it("fails a Map iteration's processor with its id in the cause and no token", async () => {
    const deps: Edges = { split: [], ...Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`w${i}`, ["split"]])) };
    const plan = planOf(deps, { image: (id) => (id.startsWith("w") ? "registry.example/worker:1" : `registry.example/${id}:1`) });
    const { error, trace } = await execute(compileWorkflow(plan), plan, ["w2"]);
    expect(error).to.be.instanceOf(Error);
    expect((trace.finalize[0] as { error: unknown }).error).to.deep.equal({ Error: "States.TaskFailed", Cause: 'processor "w2" failed' });
  });
});
