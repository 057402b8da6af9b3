import { expect } from "chai";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLogged } from "../../../lib/integrations/processor/processes";

const node = (script: string) => [process.execPath, "-e", script];

describe("runLogged", () => {
  it("caps a processor's log with a truncation marker and still lets the processor finish", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-log-"));
    const logFile = join(dir, "p.log");
    // 4 MiB on stdout and stderr: far past the cap and past any pipe buffer.
    const outcome = await runLogged({
      argv: node(`const b = "x".repeat(1 << 20); for (let i = 0; i < 2; i++) { process.stdout.write(b); process.stderr.write(b); }`),
      env: { PATH: process.env.PATH },
      cwd: dir,
      logFile,
      header: "# p",
      maxLogBytes: 10_000,
    });
    expect(outcome.exitCode).to.equal(0);
    const text = await readFile(logFile, "utf8");
    expect(text).to.contain("[log truncated: the processor wrote more than 10000 bytes");
    expect((await stat(logFile)).size).to.be.below(10_000 + 400);
  });

  it("redacts the execution's tokens wherever the processor prints them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-log-"));
    const logFile = join(dir, "p.log");
    await runLogged({ argv: node(`console.log("token=" + process.env.T); console.error(process.env.T)`), env: { PATH: process.env.PATH, T: "sekret-token-value" }, cwd: dir, logFile, header: "# p", secrets: ["sekret-token-value"] });
    const text = await readFile(logFile, "utf8");
    expect(text).to.contain("token=***");
    expect(text).to.not.contain("sekret-token-value");
  });

  it("keeps every line of a processor that logs within the cap", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cn-log-"));
    const logFile = join(dir, "p.log");
    await runLogged({ argv: node(`for (let i = 0; i < 100; i++) console.log("line " + i)`), env: { PATH: process.env.PATH }, cwd: dir, logFile, header: "# p" });
    const text = await readFile(logFile, "utf8");
    expect(text).to.contain("line 0\n").and.contain("line 99\n").and.not.contain("truncated");
  });
});
