import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EngineEvent, InlineProgramArgs, LocalWorkspaceOptions } from "@pulumi/pulumi/automation";
import { ConflictError, NotFoundError, UnavailableError } from "../../lib/errors";
import { AutomationApi, AutomationStack, AutomationStackEngine, StackOperationError } from "../../lib/provision/automation-engine";
import { NodeSpec } from "../../lib/provision/stack-engine";

// The Automation API's own error factory: it classifies CLI stderr exactly as a real run would.
const { createCommandError } = require("@pulumi/pulumi/automation/errors") as { createCommandError: (r: unknown) => Error };
const { CommandResult } = require("@pulumi/pulumi/automation/cmd") as { CommandResult: new (stdout: string, stderr: string, code: number) => unknown };
const cliError = (stderr: string) => createCommandError(new CommandResult("", stderr, 255));

const NODE: NodeSpec = { id: "lab-1", mode: "secure", region: "eu-west-1", options: { maxVcpus: 8 } };

interface Seen {
  args: InlineProgramArgs;
  options: LocalWorkspaceOptions;
  how: "create" | "select";
  config?: Record<string, unknown>;
  workDirDuringOp?: boolean;
}

/** An Automation API stand-in: records what the engine asked for and plays the CLI's part. */
function fakeAutomation(behaviour: { cli?: boolean; up?: (stack: AutomationStack) => Promise<void>; select?: () => Error | undefined; installPlugin?: () => Promise<void> } = {}) {
  const seen: Seen[] = [];
  const plugins: string[] = [];
  const settingsSaved: unknown[] = [];
  const makeStack = (entry: Seen): AutomationStack =>
    ({
      name: entry.args.stackName,
      setAllConfig: async (config: Record<string, unknown>) => void (entry.config = config),
      up: async (opts: { onEvent?: (e: EngineEvent) => void }) => {
        entry.workDirDuringOp = existsSync(entry.options.workDir!);
        await behaviour.up?.(stack);
        opts.onEvent?.({ sequence: 1, timestamp: 1700000000, resourcePreEvent: { metadata: { op: "create", urn: "urn:a", type: "aws:ecs/cluster:Cluster", provider: "" } } } as EngineEvent);
        opts.onEvent?.({ sequence: 2, timestamp: 1700000001, preludeEvent: { config: {} } } as EngineEvent);
        opts.onEvent?.({ sequence: 3, timestamp: 1700000002, diagnosticEvent: { message: "\u001b[31mwarning: slow\u001b[0m\n", color: "raw", severity: "warning" } } as EngineEvent);
        return { stdout: "", stderr: "", summary: { resourceChanges: { create: 1 } }, outputs: { clusterArn: { value: "arn:x", secret: false }, token: { value: "hidden", secret: true } } };
      },
      preview: async () => ({ stdout: "", stderr: "", changeSummary: { same: 1 } }),
      refresh: async () => ({ stdout: "", stderr: "", summary: { resourceChanges: { same: 1 } } }),
      destroy: async () => ({ stdout: "", stderr: "", summary: { resourceChanges: { delete: 1 } } }),
      cancel: async () => undefined,
      outputs: async () => ({ clusterArn: { value: "arn:x", secret: false } }),
      workspace: {
        installPlugin: async (name: string, version: string) => {
          await behaviour.installPlugin?.();
          plugins.push(`${name}@${version}`);
        },
        stackSettings: async () => ({ secretsProvider: "passphrase", encryptionSalt: "v1:salt:abc", config: { "aws:region": entry.config ? "eu-west-1" : undefined } }),
      },
    }) as unknown as AutomationStack;
  let stack: AutomationStack;
  const api: AutomationApi = {
    checkCli: async () => {
      if (behaviour.cli === false) throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
      return { command: "pulumi", version: "3.248.0" };
    },
    createOrSelectStack: async (args, options) => {
      const entry: Seen = { args, options, how: "create" };
      seen.push(entry);
      settingsSaved.push(options.stackSettings);
      return (stack = makeStack(entry));
    },
    selectStack: async (args, options) => {
      const entry: Seen = { args, options, how: "select" };
      seen.push(entry);
      settingsSaved.push(options.stackSettings);
      const err = behaviour.select?.();
      if (err) throw err;
      return (stack = makeStack(entry));
    },
  };
  return { api, seen, plugins, settingsSaved };
}

describe("AutomationStackEngine", () => {
  let dataDir: string;
  beforeEach(async () => (dataDir = await mkdtemp(join(tmpdir(), "cn-engine-"))));
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const engineWith = (fake: ReturnType<typeof fakeAutomation>, extra: Partial<ConstructorParameters<typeof AutomationStackEngine>[0]> = {}) =>
    new AutomationStackEngine({ program: (node) => async () => ({ id: node.id }), dataDir, automation: fake.api, envVars: { PULUMI_CONFIG_PASSPHRASE: "pw" }, ...extra });

  it("names the stack after the node (with an optional org/project prefix) and uses the compute-node project", async () => {
    const fake = fakeAutomation();
    await engineWith(fake).up(NODE);
    await engineWith(fake, { stackPrefix: "acme/compute-node/" }).up(NODE);
    expect(fake.seen.map((s) => s.args.stackName)).to.deep.equal(["lab-1", "acme/compute-node/lab-1"]);
    expect(fake.seen[0].args.projectName).to.equal("compute-node");
    expect(fake.seen[0].options.projectSettings).to.include({ name: "compute-node", runtime: "nodejs" });
  });

  it("maps the node to stack config (aws:region, id, mode) and passes the node to the inline program", async () => {
    const fake = fakeAutomation();
    const programs: NodeSpec[] = [];
    const engine = new AutomationStackEngine({ program: (node) => (programs.push(node), async () => ({})), dataDir, automation: fake.api });
    await engine.up(NODE);
    expect(fake.seen[0].config).to.deep.equal({
      "aws:region": { value: "eu-west-1" },
      "compute-node:computeNodeId": { value: "lab-1" },
      "compute-node:mode": { value: "secure" },
    });
    expect(programs).to.deep.equal([NODE]);
  });

  it("runs each operation in its own work directory and removes it afterwards, also when the operation fails", async () => {
    const fake = fakeAutomation({ up: async () => Promise.reject(cliError("error: update failed")) });
    const engine = engineWith(fake);
    await engine.up(NODE).catch(() => undefined);
    expect(fake.seen[0].options.workDir).to.equal(engine.workDir("lab-1"));
    expect(fake.seen[0].workDirDuringOp).to.equal(true);
    expect(existsSync(engine.workDir("lab-1"))).to.equal(false);
  });

  it("keeps the stack settings (passphrase salt) across work directories and drops them when the stack is destroyed", async () => {
    const fake = fakeAutomation();
    const engine = engineWith(fake);
    await engine.up(NODE);
    const file = join(dataDir, "stack-settings", "lab-1.json");
    expect(JSON.parse(await readFile(file, "utf8")).encryptionSalt).to.equal("v1:salt:abc");
    await engine.refresh(NODE);
    expect(fake.settingsSaved[0]).to.equal(undefined);
    expect((fake.settingsSaved[1] as Record<string, unknown>)["lab-1"]).to.deep.include({ encryptionSalt: "v1:salt:abc" });
    expect(fake.seen[1].options.secretsProvider).to.equal("passphrase");
    await engine.destroy(NODE);
    expect(existsSync(file)).to.equal(false);
  });

  it("maps ConcurrentUpdateError (a locked stack) to ConflictError", async () => {
    const locked = cliError("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.");
    expect(locked.name).to.equal("ConcurrentUpdateError");
    const engine = engineWith(fakeAutomation({ up: async () => Promise.reject(locked) }));
    const err = await engine.up(NODE).catch((e) => e);
    expect(err).to.be.instanceOf(ConflictError);
    expect(err.message).to.include('stack "lab-1" is locked');
    expect(err.cause).to.equal(locked);
  });

  it("maps StackNotFoundError to NotFoundError and other CLI failures to StackOperationError with the stderr tail", async () => {
    const missing = engineWith(fakeAutomation({ select: () => cliError("error: no stack named 'lab-1' found") }));
    expect(await missing.outputs(NODE).catch((e) => e)).to.be.instanceOf(NotFoundError);
    expect(await missing.refresh(NODE).catch((e) => e)).to.be.instanceOf(NotFoundError);
    // Cancel of a stack that does not exist has nothing to release.
    await missing.cancel(NODE);
    const failing = engineWith(fakeAutomation({ up: async () => Promise.reject(cliError("Diagnostics:\n  aws:ec2:Vpc (vpc):\n    error: creating EC2 VPC: UnauthorizedOperation")) }));
    const err = await failing.up(NODE).catch((e) => e);
    expect(err).to.be.instanceOf(StackOperationError);
    expect(err.code).to.equal("stack_operation_failed");
    expect(err.message).to.include("UnauthorizedOperation");
  });

  it("answers UnavailableError naming what to install when the Pulumi CLI is missing, before touching any stack", async () => {
    const fake = fakeAutomation({ cli: false });
    const engine = engineWith(fake, { cliRoot: "/opt/pulumi" });
    const err = await engine.ensureAvailable().catch((e) => e);
    expect(err).to.be.instanceOf(UnavailableError);
    expect(err.message).to.include("/opt/pulumi/bin/pulumi").and.include("scripts/build-pulumi-cli.sh");
    expect(await engine.up(NODE).catch((e) => e)).to.be.instanceOf(UnavailableError);
    expect(fake.seen).to.deep.equal([]);
  });

  it("refuses up front when its preflight (the node program loading) fails", async () => {
    const fake = fakeAutomation();
    const engine = engineWith(fake, {
      preflight: () => {
        throw new UnavailableError("the compute node program (lib/node/program.ts) could not be loaded");
      },
    });
    expect(await engine.ensureAvailable().catch((e) => e)).to.be.instanceOf(UnavailableError);
    expect(fake.seen).to.deep.equal([]);
  });

  it("installs plugins once, one at a time, however many operations start together", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const fake = fakeAutomation({
      installPlugin: async () => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
      },
    });
    const engine = engineWith(fake, { plugins: [{ name: "aws", version: "7.48.0" }, { name: "random", version: "4.0.0" }] });
    await Promise.all(["a", "b", "c"].map((id) => engine.up({ ...NODE, id })));
    expect(fake.plugins).to.deep.equal(["aws@7.48.0", "random@4.0.0"]);
    expect(maxInFlight).to.equal(1);
  });

  it("answers UnavailableError with the install command when a plugin cannot be installed, and tries again next time", async () => {
    let attempts = 0;
    const fake = fakeAutomation({
      installPlugin: async () => {
        if (++attempts === 1) throw new Error("error: could not download plugin");
      },
    });
    const engine = engineWith(fake, { plugins: [{ name: "aws", version: "7.48.0" }] });
    const err = await engine.up(NODE).catch((e) => e);
    expect(err).to.be.instanceOf(UnavailableError);
    expect(err.message).to.include(`PULUMI_HOME=${join(dataDir, "pulumi-home")} pulumi plugin install resource aws 7.48.0`);
    await engine.up(NODE);
    expect(fake.plugins).to.deep.equal(["aws@7.48.0"]);
  });

  it("forwards engine events as typed events with ISO timestamps, dropping preludes and colour codes, and hides secret outputs", async () => {
    const events: unknown[] = [];
    const result = await engineWith(fakeAutomation()).up(NODE, { onEvent: (e) => events.push(e) });
    expect(events).to.deep.equal([
      { type: "resource-pre", urn: "urn:a", resourceType: "aws:ecs/cluster:Cluster", op: "create", timestamp: "2023-11-14T22:13:20.000Z" },
      { type: "diagnostic", severity: "warning", message: "warning: slow", timestamp: "2023-11-14T22:13:22.000Z" },
    ]);
    expect(result.outputs).to.deep.equal({ clusterArn: { value: "arn:x", secret: false }, token: { value: undefined, secret: true } });
  });
});

describe("toEngineEventBody", () => {
  it("never forwards debug diagnostics (the SDK's RegisterResource traces carry resource outputs)", () => {
    const { toEngineEventBody } = require("../../lib/provision/automation-engine") as typeof import("../../lib/provision/automation-engine");
    const debug = { sequence: 1, timestamp: 1, diagnosticEvent: { severity: "debug", message: "RegisterResource RPC finished: … assumeRolePolicy,{\"Statement\":…}", color: "never" } };
    const warning = { sequence: 2, timestamp: 2, diagnosticEvent: { severity: "warning", message: "warning: slow", color: "never" } };
    expect(toEngineEventBody(debug as never)).to.equal(undefined);
    expect(toEngineEventBody(warning as never)).to.deep.equal({ type: "diagnostic", severity: "warning", message: "warning: slow" });
  });
});
