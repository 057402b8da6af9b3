import { expect } from "chai";
import { access, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { copyScript, planOf, scratch } from "./helpers";

const exists = (p: string) => access(p).then(() => true, () => false);

/** The same behaviours as runner.test.ts, through the machine lib/compile really produces. */
describe("runLocalWorkflow (compiled by lib/compile)", () => {
  const diamond = (c: string[]) =>
    planOf("compiled-diamond", [
      { id: "a", command: copyScript("a") },
      { id: "b", dependsOn: ["a"], command: copyScript("b") },
      { id: "c", dependsOn: ["a"], command: c, computeType: "lambda" },
      { id: "d", dependsOn: ["b", "c"], command: copyScript("d") },
    ]);

  it("fails on a processor's exit code, still finalizes, and keeps tokens out of everything it writes", async () => {
    const { input, workdir } = await scratch();
    const env = { ...process.env, PENNSIEVE_SESSION_TOKEN: "sess-SECRET-789", PENNSIEVE_REFRESH_TOKEN: "refr-SECRET-012" };
    const fail = [process.execPath, "-e", `console.log("token seen:", process.env.SESSION_TOKEN.length > 0); process.exit(5)`];
    const record = await runLocalWorkflow({ plan: diamond(fail), inputDir: input, workdir, env, executionId: "wi-compiled-fail" });
    expect(record.status).to.equal("FAILED");
    expect(record.processors.c).to.include({ status: "FAILED", exitCode: 5 });
    expect(await readFile(record.processors.c.logFile!, "utf8")).to.contain("token seen: true");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
    expect(record.error?.cause).to.contain('processor "c" exited with code 5');
    expect(await exists(join(workdir, "archive", "wi-compiled-fail", "cost-report.json"))).to.equal(true);
    const written = [await readFile(join(workdir, "executions", "wi-compiled-fail", "record.json"), "utf8"), await readFile(join(workdir, "archive", "wi-compiled-fail", "cost-report.json"), "utf8")];
    for (const text of written) expect(text).not.to.contain("SECRET");
    expect(await readdir(join(workdir, "secrets"))).to.deep.equal([]);
  });

  it("fails on a merge collision naming both processors and the file", async () => {
    const { input, workdir } = await scratch();
    const clash = [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR,"b-a-hello.txt"),"clash")`];
    const record = await runLocalWorkflow({ plan: diamond(clash), inputDir: input, workdir, executionId: "wi-compiled-clash" });
    expect(record.status).to.equal("FAILED");
    expect(record.error?.cause).to.contain('"b"').and.contain('"c"').and.contain("b-a-hello.txt");
    expect(record.processors.d.status).to.equal("NOT_STARTED");
  });
});
