import { expect } from "chai";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLEANUP_ENTRY, FORCE_DESTROY_ENV, cleanupModuleOfThisCheckout, destroyHookProvider } from "../../lib/node/destroy-hook";
import * as awsRuntime from "../../lib/runtime/aws";

// A stand-in for the AWS runtime's index (its cleanupNodeResources) that answers from a script and records its calls.
function fakeCleanupModule(script: string): { path: string; calls: () => unknown[] } {
  const dir = mkdtempSync(join(tmpdir(), "cn-hook-"));
  const path = join(dir, "cleanup.js");
  writeFileSync(path, `const calls = []; exports.calls = calls; const script = ${script};\nexports.cleanupNodeResources = async (o) => { calls.push(o); return script(calls.length, o); };`);
  return { path, calls: () => require(path).calls };
}

const props = { computeNodeId: "n1", region: "us-east-1", force: false };

describe("destroyHookProvider", () => {
  it("refuses the destroy with the cleanup's error while an execution of the node runs", async () => {
    const fake = fakeCleanupModule(`() => { const e = new Error("execution arn:aws:states:…:execution:cn-n1-wf:wi-1 is RUNNING"); e.name = "ConflictError"; throw e; }`);
    const provider = destroyHookProvider(fake.path, { timeoutMs: 1000, pollMs: 1 });
    try {
      await provider.delete!("destroy-hook-n1", props);
      expect.fail("delete succeeded while an execution runs");
    } catch (err) {
      expect((err as Error).name).to.equal("ConflictError");
      expect((err as Error).message).to.include("RUNNING");
    }
    expect(fake.calls()).to.deep.equal([props]);
  });

  it("passes force through so operators can destroy a node with running executions", async () => {
    const fake = fakeCleanupModule(`() => ({ pendingNetworkInterfaces: [] })`);
    await destroyHookProvider(fake.path, { timeoutMs: 1000, pollMs: 1 }).delete!("id", { ...props, force: true });
    expect(fake.calls()).to.deep.equal([{ ...props, force: true }]);
  });

  it("forces the destroy when the operator sets COMPUTE_NODE_FORCE_DESTROY, since destroy reads last-deployed inputs", async () => {
    const fake = fakeCleanupModule(`() => ({ pendingNetworkInterfaces: [] })`);
    process.env[FORCE_DESTROY_ENV] = "true";
    try {
      await destroyHookProvider(fake.path, { timeoutMs: 1000, pollMs: 1 }).delete!("id", props);
    } finally {
      delete process.env[FORCE_DESTROY_ENV];
    }
    expect(fake.calls()).to.deep.equal([{ ...props, force: true }]);
  });

  it("waits until Lambda releases the functions' network interfaces before letting the network be deleted", async () => {
    const fake = fakeCleanupModule(`(n) => ({ pendingNetworkInterfaces: n < 3 ? ["eni-1"] : [] })`);
    await destroyHookProvider(fake.path, { timeoutMs: 5000, pollMs: 1 }).delete!("id", props);
    expect(fake.calls()).to.have.length(3);
  });

  it("fails with the stuck interfaces named when they outlive the timeout", async () => {
    const fake = fakeCleanupModule(`() => ({ pendingNetworkInterfaces: ["eni-stuck"] })`);
    try {
      await destroyHookProvider(fake.path, { timeoutMs: 20, pollMs: 5 }).delete!("id", props);
      expect.fail("delete succeeded with ENIs attached");
    } catch (err) {
      expect((err as Error).message).to.include("eni-stuck");
    }
  });
});

describe("destroyHookProvider when the checkout that created the node has moved", () => {
  it("finds the cleanup module again below the directory destroy runs from", async () => {
    const program = mkdtempSync(join(tmpdir(), "cn-hook-program-"));
    mkdirSync(join(program, "lib", "runtime", "aws"), { recursive: true });
    const moved = join(program, "lib", "runtime", "aws", "index.ts");
    writeFileSync(moved, `const calls: unknown[] = []; exports.calls = calls; exports.cleanupNodeResources = async (o: unknown) => { calls.push(o); return { pendingNetworkInterfaces: [] }; };`);
    await destroyHookProvider(join(tmpdir(), "gone", "lib", "runtime", "aws", "index.ts"), { timeoutMs: 1000, pollMs: 1 }, program).delete!("id", props);
    expect(require(moved).calls).to.deep.equal([props]);
  });

  it("finds the compiled entry of a checkout that runs from dist/", async () => {
    const program = mkdtempSync(join(tmpdir(), "cn-hook-built-"));
    mkdirSync(join(program, "dist", "lib", "runtime", "aws"), { recursive: true });
    const built = join(program, "dist", "lib", "runtime", "aws", "index.js");
    writeFileSync(built, `const calls = []; exports.calls = calls; exports.cleanupNodeResources = async (o) => { calls.push(o); return { pendingNetworkInterfaces: [] }; };`);
    await destroyHookProvider("/nowhere/index.js", { timeoutMs: 1000, pollMs: 1 }, program).delete!("id", props);
    expect(require(built).calls).to.deep.equal([props]);
  });

  it("fails naming the export when the module found no longer has it", async () => {
    const program = mkdtempSync(join(tmpdir(), "cn-hook-renamed-"));
    mkdirSync(join(program, "lib", "runtime", "aws"), { recursive: true });
    writeFileSync(join(program, "lib", "runtime", "aws", "index.ts"), `exports.somethingElse = async () => ({});`);
    try {
      await destroyHookProvider("/nowhere/index.ts", { timeoutMs: 1000, pollMs: 1 }, program).delete!("id", props);
      expect.fail("delete succeeded without a cleanup export");
    } catch (err) {
      expect((err as Error).message).to.include("does not export cleanupNodeResources");
    }
  });

  it("fails naming every place it looked when no cleanup module is found", async () => {
    const program = mkdtempSync(join(tmpdir(), "cn-hook-empty-"));
    try {
      await destroyHookProvider("/nowhere/index.ts", { timeoutMs: 1000, pollMs: 1 }, program).delete!("id", props);
      expect.fail("delete succeeded without a cleanup module");
    } catch (err) {
      expect((err as Error).message).to.include("/nowhere/index.ts").and.include(join(program, "lib", "runtime", "aws", "index.ts")).and.include(join(program, "dist", "lib", "runtime", "aws", "index.js"));
    }
  });

  it("looks in the checkout named by COMPUTE_NODE_ROOT, as the provisioner service's inline programs run elsewhere", async () => {
    const checkout = mkdtempSync(join(tmpdir(), "cn-hook-root-"));
    mkdirSync(join(checkout, "lib", "runtime", "aws"), { recursive: true });
    const module = join(checkout, "lib", "runtime", "aws", "index.ts");
    writeFileSync(module, `const calls: unknown[] = []; exports.calls = calls; exports.cleanupNodeResources = async (o: unknown) => { calls.push(o); return { pendingNetworkInterfaces: [] }; };`);
    process.env.COMPUTE_NODE_ROOT = checkout;
    try {
      await destroyHookProvider("/nowhere/index.ts", { timeoutMs: 1000, pollMs: 1 }, mkdtempSync(join(tmpdir(), "cn-hook-work-"))).delete!("id", props);
    } finally {
      delete process.env.COMPUTE_NODE_ROOT;
    }
    expect(require(module).calls).to.deep.equal([props]);
  });

  it("reports a change when the stored hook code differs, so pulumi up stores the code destroy will run", async () => {
    const provider = destroyHookProvider("/x/index.ts");
    const stored = { ...props, __provider: "old code" } as typeof props;
    expect((await provider.diff!("id", stored, { ...props, __provider: "new code" } as typeof props)).changes).to.equal(true);
    expect((await provider.diff!("id", stored, { ...props, __provider: "old code" } as typeof props)).changes).to.equal(false);
  });
});

describe("the cleanup the destroy hook names", () => {
  it("is the AWS runtime index's cleanupNodeResources, resolved from this checkout", () => {
    const module = cleanupModuleOfThisCheckout();
    expect(module).to.match(/lib[\\/]runtime[\\/]aws[\\/]index\.(ts|js)$/);
    expect(module.replace(/\\/g, "/")).to.include(CLEANUP_ENTRY.module);
    expect((require(module) as Record<string, unknown>)[CLEANUP_ENTRY.export]).to.equal(awsRuntime.cleanupNodeResources);
  });
});
