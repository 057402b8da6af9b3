import "../lib/runtime/local/polyfill";
import { ResolvedPlan } from "../lib/plan/resolve";
import { AslStateMachine, CompiledWorkflow, readMarkers } from "../lib/compile";
import { LocalJoins } from "../lib/integrations/join/local";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require("aws-local-stepfunctions") as {
  StateMachine: new (definition: unknown, options?: unknown) => { run(input: unknown, options?: unknown): { result: Promise<unknown> } };
};

export interface LocalCheck {
  ran: number;
  /** Processors that started before one of their dependencies finished. */
  earlyStarts: number;
  /** Processors started more than once. */
  repeats: number;
}

/**
 * Executes a compiled workflow (children included) in aws-local-stepfunctions with stand-in services
 * picked by marker, and checks from the calls that each processor ran once, after its dependencies.
 */
export async function runWithStandIns(plan: ResolvedPlan, compiled: CompiledWorkflow): Promise<LocalCheck> {
  const byHash = new Map(plan.processors.map((p) => [p.hash, p]));
  const finished = new Set<string>();
  const started = new Set<string>();
  const result: LocalCheck = { ran: 0, earlyStarts: 0, repeats: 0 };
  const joins = new LocalJoins();
  const context = { Execution: { Id: "arn:aws:states:local:000000000000:execution:bench:wi-bench", Name: "wi-bench" }, Task: { Token: "local" } };
  const handlers = (machine: AslStateMachine) => {
    const out: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, marker] of readMarkers(machine)) {
      out[name] = async (input: unknown) => {
        const i = input as { Overrides?: { ContainerOverrides: { Environment: { Name: string; Value: string }[] }[] }; Payload?: { outputDir?: string; after?: string[]; done?: string[] }; Input?: unknown };
        switch (marker.kind) {
          case "resolve-token":
            return { SecretString: JSON.stringify({ sessionToken: "s", refreshToken: "r" }) };
          case "processor": {
            const outputDir = i.Overrides?.ContainerOverrides[0].Environment.find((e) => e.Name === "OUTPUT_DIR")?.Value ?? i.Payload?.outputDir ?? "";
            const p = byHash.get(outputDir.split("/").pop()!)!;
            if (started.has(p.id)) result.repeats++;
            started.add(p.id);
            if (p.dependsOn.some((d) => !finished.has(d))) result.earlyStarts++;
            await new Promise((r) => setImmediate(r));
            finished.add(p.id);
            result.ran++;
            return {};
          }
          case "child": {
            const child = compiled.children[marker.child!];
            await new StateMachine(child, { validationOptions: { noValidate: true } }).run(i.Input, { overrides: { taskResourceLocalHandlers: handlers(child) }, context }).result;
            return {};
          }
          case "join-wait":
            await joins.wait(i.Payload?.after ?? []);
            return {};
          case "join-release":
            joins.release(i.Payload?.done ?? []);
            return { StatusCode: 200, Payload: {} };
          default:
            return { StatusCode: 200, Payload: {} };
        }
      };
    }
    return out;
  };
  await new StateMachine(compiled.definition).run({ workflowInstanceId: "wi-bench", computeNodeId: "local", tokenSecretId: "secret" }, { overrides: { taskResourceLocalHandlers: handlers(compiled.definition) }, context }).result;
  return result;
}
