import { expect } from "chai";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { isComputeNodeError } from "../../../lib/errors";
import { handleTransfer } from "../../../lib/integrations/transfer/handler";

/** Every path under `root` with what it is: file contents' hash, link target, or "dir". */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string) => {
    const info = await lstat(path);
    if (info.isSymbolicLink()) out.set(path, `link:${await readlink(path)}`);
    else if (info.isDirectory()) {
      out.set(path, "dir");
      for (const name of await readdir(path)) await walk(join(path, name));
    } else out.set(path, `file:${createHash("sha1").update(await readFile(path)).digest("hex")}`);
  };
  await walk(root);
  return out;
}

/**
 * A node with two executions, a second node, a directory outside the mount, and outputs that hold
 * links to all of them: what an attacker controlling one processor could have left behind.
 */
async function hostileEfs(root: string) {
  const mount = join(root, "efs");
  const outside = join(root, "outside");
  const w1 = join(mount, "node-1", "workdir", "wi-1");
  for (const d of [join(w1, "aa11"), join(w1, "bb22"), join(w1, "m_cc33"), join(mount, "node-1", "input", "wi-1"), join(mount, "node-1", "workdir", "wi-2", "aa11"), join(mount, "node-2", "workdir", "wi-1", "m_aa11"), join(mount, "node-2", "input", "wi-1"), outside])
    await mkdir(d, { recursive: true });
  await writeFile(join(w1, "aa11", "a.txt"), "a");
  await writeFile(join(w1, "bb22", "b.txt"), "b");
  await writeFile(join(mount, "node-1", "input", "wi-1", "in.txt"), "in");
  await writeFile(join(mount, "node-1", "workdir", "wi-2", "aa11", "theirs.txt"), "theirs");
  await writeFile(join(outside, "secret.txt"), "secret");
  await symlink(outside, join(w1, "bb22", "out-link"));
  await symlink("..", join(w1, "aa11", "up"));
  await symlink(join(mount, "node-1", "workdir", "wi-2"), join(w1, "aa11", "neighbour"));
  await mkdir(join(mount, "node-1", "workdir", "wi-3"), { recursive: true });
  await symlink(outside, join(mount, "node-1", "workdir", "wi-3", "dd44"));
  await symlink(outside, join(mount, "node-1", "workdir", "wi-3", "m_dd44"));
  await mkdir(join(mount, "node-3", "workdir"), { recursive: true });
  await symlink(outside, join(mount, "node-3", "workdir", "wi-1"));
  return { mount, outside };
}

const segment = fc.oneof(
  fc.constantFrom("node-1", "node-2", "node-3", "workdir", "input", "wi-1", "wi-2", "wi-3", "aa11", "bb22", "m_cc33", "m_dd44", "dd44", "m_aa11", "..", ".", "", "outside", "efs", "etc", "passwd"),
  fc.stringMatching(/^[a-z0-9_.-]{1,6}$/),
);
const NODES = ["node-1", "node-2", "node-3"];
const WIDS = ["wi-1", "wi-2", "wi-3"];
const LAST = ["aa11", "bb22", "m_cc33", "m_dd44", "dd44", "m_ee55", ".."];
/** Near-valid paths, `{mount}/{node}/{input|workdir}/{wid}[/{dir}]`, mostly of the payload's own ids, so that many payloads pass the guard and run. */
const structured = fc.record({ own: fc.boolean(), node: fc.constantFrom(...NODES), kind: fc.constantFrom("workdir", "input"), wid: fc.constantFrom(...WIDS), last: fc.option(fc.constantFrom(...LAST)) });
const id = fc.oneof(fc.constantFrom("node-1", "node-2", "node-3", "wi-1", "wi-2", "wi-3", "..", ".", "", "a/b c", "../../x", "NODE"), fc.string({ maxLength: 8 }));

describe("data-transfer functions under hostile payloads (property)", () => {
  it("never touch anything outside the directories of the execution a payload names", async function () {
    this.timeout(300_000);
    const base = await mkdtemp(join(tmpdir(), "cn-hostile-"));
    let run = 0;
    let succeeded = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          action: fc.constantFrom("download", "merge", "cleanup", "explode"),
          computeNodeId: fc.oneof(fc.constantFrom(...NODES), fc.constantFrom(...NODES), id),
          workflowInstanceId: fc.oneof(fc.constantFrom(...WIDS), fc.constantFrom(...WIDS), id),
          prefix: fc.constantFrom("mount", "mount", "mount", "root", "outside", "slash", "relative"),
          paths: fc.array(fc.oneof(structured, structured, structured, fc.array(segment, { maxLength: 6 })), { minLength: 3, maxLength: 4 }),
          processorId: fc.constantFrom("d", "", "../x"),
          inputs: fc.array(fc.constantFrom("s3://bucket/key", "/etc/hostname", "/proc/self/environ", "file:///etc/passwd", "outside", "relative/x"), { maxLength: 3 }),
          // Canonical: the paths the compiler would send for these ids (sources: two outputs), so that hostile
          // filesystems (links left in outputs, linked parents) are met by payloads that pass the shape check.
          canonical: fc.boolean(),
          extra: fc.option(fc.dictionary(fc.constantFrom("targetDir", "sources", "workdir", "inputDir", "inputs"), fc.oneof(fc.constant(null), fc.integer(), fc.constant([{}]))), { nil: undefined }),
        }),
        async (g) => {
          const root = join(base, String(run++));
          await mkdir(root);
          const { mount, outside } = await hostileEfs(root);
          const prefixes = { mount, root, outside, slash: "", relative: "." };
          const path = (p: string[] | { own: boolean; node: string; kind: string; wid: string; last: string | null }) => {
            const segments = Array.isArray(p) ? p : [p.own ? g.computeNodeId : p.node, p.kind, p.own ? g.workflowInstanceId : p.wid, ...(p.last === null ? [] : [p.last])];
            return [prefixes[g.prefix], ...segments].join("/");
          };
          const [a, b, c, d] = g.paths.map(path);
          const payload: Record<string, unknown> = {
            action: g.action,
            computeNodeId: g.computeNodeId,
            workflowInstanceId: g.workflowInstanceId,
            processorId: g.processorId,
            targetDir: a,
            workdir: a,
            inputDir: b,
            sources: [{ processorId: "a", dir: b }, { processorId: "b", dir: c }, ...(d ? [{ processorId: "c", dir: d }] : [])],
            inputs: g.inputs.map((i) => (i === "outside" ? outside : i)),
            ...g.extra,
          };
          if (g.canonical) {
            const work = join(mount, g.computeNodeId, "workdir", g.workflowInstanceId);
            const input = join(mount, g.computeNodeId, "input", g.workflowInstanceId);
            Object.assign(payload, { targetDir: g.action === "download" ? input : join(work, "m_ee55"), workdir: work, inputDir: input, sources: [{ processorId: "a", dir: join(work, "aa11") }, { processorId: "b", dir: join(work, "bb22") }] });
          }
          const before = await snapshot(root);
          let error: unknown;
          try {
            await handleTransfer(payload, {
              efsMountPath: mount,
              fetchRemote: async (_uri, dir) => {
                await writeFile(join(dir, "fetched.txt"), "remote");
                return 1;
              },
            });
            succeeded++;
          } catch (err) {
            error = err;
          }
          if (error !== undefined) expect(isComputeNodeError(error), `untyped ${String(error)}`).to.equal(true);
          const after = await snapshot(root);
          // What the payload's own execution may change: its input dir, its merge dirs, and the
          // directories that lead to them (created on first use).
          const own = { input: join(mount, String(g.computeNodeId), "input", String(g.workflowInstanceId)), workdir: join(mount, String(g.computeNodeId), "workdir", String(g.workflowInstanceId)) };
          const allowed = (p: string) =>
            p === own.input ||
            p.startsWith(own.input + sep) ||
            (p.startsWith(own.workdir + sep) && relative(own.workdir, p).startsWith("m_")) ||
            [own.workdir, join(mount, String(g.computeNodeId)), join(mount, String(g.computeNodeId), "input"), join(mount, String(g.computeNodeId), "workdir")].includes(p);
          const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
          expect(changed.filter((p) => !allowed(p)), JSON.stringify(payload)).to.deep.equal([]);
          // Never an OUTPUT_DIR, never outside the mount, whoever the payload names.
          expect(changed.filter((p) => !p.startsWith(mount + sep))).to.deep.equal([]);
          expect(after.get(join(outside, "secret.txt"))).to.equal(before.get(join(outside, "secret.txt")));
          await rm(root, { recursive: true, force: true });
        },
      ),
      { numRuns: 200 },
    );
    // The property means little unless some hostile-looking payloads were valid and ran.
    expect(succeeded).to.be.greaterThan(0);
    await rm(base, { recursive: true, force: true });
  });
});
