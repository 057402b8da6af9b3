import { expect } from "chai";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { compileForLocal } from "../../../lib/runtime/local/compile-local";
import { MachineEvent, runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { readMarkers } from "../../../lib/compile/markers";
import { AslStateMachine } from "../../../lib/compile/asl/types";
import { planOf, scratch } from "../../runtime/local/helpers";
import { jwt } from "./helpers";

const SESSION = "local-session-tok3n";
const REFRESH = "local-refresh-tok3n";
/** Writes whether it got the execution's tokens, without writing them. */
const check = (ok = true) => [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR, "got-tokens"), String(process.env.SESSION_TOKEN === ${JSON.stringify(SESSION)} && process.env.REFRESH_TOKEN === ${JSON.stringify(REFRESH)})); process.exit(${ok ? 0 : 1})`];
const holds = (e: MachineEvent) => [SESSION, REFRESH].some((t) => JSON.stringify(e).includes(t));

async function run(processors: Parameters<typeof planOf>[1], executionId: string, env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PENNSIEVE_SESSION_TOKEN: SESSION, PENNSIEVE_REFRESH_TOKEN: REFRESH }) {
  const { input, workdir } = await scratch();
  const plan = planOf("tokens", processors);
  const events: MachineEvent[] = [];
  let definition: AslStateMachine | undefined;
  const record = await runLocalWorkflow({
    plan,
    inputDir: input,
    workdir,
    executionId,
    env,
    compile: (p, target) => {
      const bundle = compileForLocal(p, target);
      definition = bundle.definition as unknown as AslStateMachine;
      return bundle;
    },
    onMachineEvent: (e) => events.push(e),
  });
  const markers = readMarkers(definition!);
  const lambdaStates = new Set([...markers].filter(([, m]) => (m.kind === "resolve-token" || m.kind === "processor") && m.processorIds.some((id) => plan.processors.find((p) => p.id === id)?.computeType === "lambda")).map(([name]) => name));
  return { record, events, plan, workdir, lambdaStates };
}

describe("tokens in the local runner's event log", () => {
  it("delivers an ECS processor's tokens through the environment file only: no event of the run holds them", async () => {
    const { record, events, plan, workdir } = await run([{ id: "a", command: check() }, { id: "b", dependsOn: ["a"], command: check() }], "wi-ecs-tokens");
    expect(record.status).to.equal("SUCCEEDED");
    for (const p of plan.processors) expect(await readFile(join(record.artifacts!.outputs!, p.hash, "got-tokens"), "utf8"), p.id).to.equal("true");
    expect(events.length).to.be.greaterThan(10);
    expect(events.filter(holds).map((e) => `${e.type} ${"state" in e ? e.state.name : ""}`)).to.deep.equal([]);
    // The environment file goes with the run.
    expect(await access(join(workdir, "secrets", "wi-ecs-tokens.env")).then(() => true, () => false)).to.equal(false);
  });

  it("keeps a Lambda processor's tokens to its own ResolveToken and run state, also when it fails and is caught", async () => {
    const { record, events, lambdaStates } = await run(
      [
        { id: "a", command: check(), computeType: "lambda" },
        { id: "b", dependsOn: ["a"], command: check() },
        { id: "c", dependsOn: ["a"], command: check(false), computeType: "lambda" },
      ],
      "wi-mixed-tokens",
    );
    expect(record.status).to.equal("FAILED");
    expect(record.processors.c.status).to.equal("FAILED");
    const holding = events.filter(holds);
    expect(holding.length).to.be.greaterThan(0);
    expect(holding.filter((e) => !("state" in e) || !lambdaStates.has(e.state.name)).map((e) => `${e.type} ${"state" in e ? e.state.name : ""}`)).to.deep.equal([]);
    // The caught error replaced the tokens: the Fail state's input holds none.
    const failEntered = events.filter((e) => e.type === "StateEntered" && e.state.type === "Fail");
    expect(failEntered.length).to.be.greaterThan(0);
    expect(failEntered.filter(holds)).to.deep.equal([]);
  });

  for (const computeType of ["ecs", "lambda"] as const)
    it(`refreshes an expiring session token before a${computeType === "ecs" ? "n ECS" : " Lambda"} processor starts when the run has a refresher`, async () => {
      const now = new Date("2026-03-01T10:00:00Z");
      const expiring = jwt({ exp: now.getTime() / 1000 + 60 });
      const { input, workdir } = await scratch();
      const plan = planOf("refresh", [{ id: "a", computeType, command: [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR, "token"), process.env.SESSION_TOKEN)`] }]);
      const seen: string[] = [];
      const record = await runLocalWorkflow({
        plan,
        inputDir: input,
        workdir,
        env: { PATH: process.env.PATH, PENNSIEVE_SESSION_TOKEN: expiring, PENNSIEVE_REFRESH_TOKEN: REFRESH },
        now: () => now,
        refreshTokens: async (refreshToken) => (seen.push(refreshToken), { accessToken: "fresh-access-token" }),
      });
      expect(record.status).to.equal("SUCCEEDED");
      expect(seen).to.deep.equal([REFRESH]);
      expect(await readFile(join(record.artifacts!.outputs!, plan.processors[0].hash, "token"), "utf8")).to.equal("fresh-access-token");
    });
});
