import { expect } from "chai";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newExecutionId } from "../../lib/runtime/execution-id";
import * as local from "../../lib/runtime/local";
import * as aws from "../../lib/runtime/aws";
import { startLocalExecution } from "../../lib/runtime/local";
import { resolvePlan } from "../../lib/plan/resolve";

describe("execution ids (one generator for both runtimes)", () => {
  it("stamp the id with the caller's clock, to the second, and a random suffix", () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const id = newExecutionId(at);
    expect(id).to.match(/^wi-20260102T030405Z-[0-9a-f]{6}$/);
    expect(newExecutionId(at)).to.not.equal(id);
  });

  it("sort by the time they were made", () => {
    const ids = [Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 0, 0, 1), Date.UTC(2027, 5, 1)].map((t) => newExecutionId(new Date(t)));
    expect([...ids].sort()).to.deep.equal(ids);
  });

  it("is the same function whichever runtime's index it is imported from", () => {
    expect(local.newExecutionId).to.equal(newExecutionId);
    expect(aws.newExecutionId).to.equal(newExecutionId);
  });

  it("names a local run by the run's clock", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-exec-id-"));
    try {
      const input = join(dir, "in");
      await mkdir(input);
      await writeFile(join(input, "x.txt"), "x");
      const plan = resolvePlan({ name: "w", processors: [{ id: "a", sourceUrl: "img" }] }, { processors: [{ sourceUrl: "img", localCommand: [process.execPath, "-e", "0"] }] });
      const run = startLocalExecution({ plan, inputDir: input, workdir: join(dir, "work"), now: () => new Date(Date.UTC(2030, 6, 8, 9, 10, 11)) });
      expect(run.executionId).to.match(/^wi-20300708T091011Z-[0-9a-f]{6}$/);
      const record = await run.done;
      expect(record.createdAt).to.equal("2030-07-08T09:10:11.000Z");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
