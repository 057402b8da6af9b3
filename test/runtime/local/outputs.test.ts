import { expect } from "chai";
import { access, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { ResolvedPlan } from "../../../lib/plan/resolve";
import { ValidationError } from "../../../lib/errors";
import { copyScript, planOf, scratch } from "./helpers";

const exists = (p: string) => access(p).then(() => true, () => false);
const withOutputs = (plan: ResolvedPlan, outputs: string): ResolvedPlan => ({ ...plan, invocation: { ...plan.invocation, outputs } });

/** Invocation `outputs`: after the DAG, the sink processors' OUTPUT_DIRs are copied to the destination, before Cleanup. */
describe("runLocalWorkflow with an outputs destination", () => {
  // a → (b, c): b and c are the sinks; a's files reach the destination only through them.
  const fan = () =>
    planOf("fan-out", [
      { id: "a", command: copyScript("a") },
      { id: "b", dependsOn: ["a"], command: copyScript("b", `;fs.mkdirSync(p.join(o,"nested"));fs.writeFileSync(p.join(o,"nested","deep.txt"),"deep")`) },
      { id: "c", dependsOn: ["a"], command: copyScript("c") },
    ]);

  it("copies every sink processor's outputs to <destination>/<processorId>/ and lists them in the record", async () => {
    const { root, input, workdir } = await scratch({ "x.txt": "xx", "y.txt": "yyy" });
    const destination = join(root, "results");
    const record = await runLocalWorkflow({ plan: withOutputs(fan(), destination), inputDir: input, workdir, executionId: "wi-outputs-fan" });
    expect(record.status).to.equal("SUCCEEDED");
    expect((await readdir(destination)).sort()).to.deep.equal(["b", "c"]);
    expect((await readdir(join(destination, "b"))).sort()).to.deep.equal(["b-a-x.txt", "b-a-y.txt", "nested"]);
    expect(await readFile(join(destination, "b", "nested", "deep.txt"), "utf8")).to.equal("deep");
    expect(await readFile(join(destination, "c", "c-a-y.txt"), "utf8")).to.equal("yyy");
    expect(record.outputs).to.include({ destination, files: 5, processorCount: 2, skipped: 0 });
    expect(record.outputs!.bytes).to.equal(2 + 3 + 4 + 2 + 3);
    expect(record.outputs!.processors.map((p) => [p.processorId, p.files])).to.deep.equal([
      ["b", 3],
      ["c", 2],
    ]);
    expect(record.outputs!.sample).to.include(join(destination, "b", "nested", "deep.txt"));
    // The results are copies: the OUTPUT_DIRs stay where they were, and Cleanup still ran.
    expect(await exists(join(workdir, "efs", "local", "input", "wi-outputs-fan"))).to.equal(false);
    const record2 = JSON.parse(await readFile(join(workdir, "executions", "wi-outputs-fan", "record.json"), "utf8"));
    expect(record2.outputs.files).to.equal(5);
  });

  it("fills {workflowInstanceId} in so runs sharing an invocation do not mix their results", async () => {
    const { root, input, workdir } = await scratch();
    const plan = withOutputs(planOf("single", [{ id: "only", command: copyScript("o") }]), join(root, "runs", "{workflowInstanceId}"));
    const first = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-outputs-one" });
    const second = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-outputs-two" });
    expect([first.status, second.status]).to.deep.equal(["SUCCEEDED", "SUCCEEDED"]);
    expect((await readdir(join(root, "runs"))).sort()).to.deep.equal(["wi-outputs-one", "wi-outputs-two"]);
    expect(await readFile(join(root, "runs", "wi-outputs-two", "only", "o-hello.txt"), "utf8")).to.equal("hello");
    expect(second.outputs?.destination).to.equal(join(root, "runs", "wi-outputs-two"));
  });

  it("uploads nothing when the DAG failed, and keeps the outputs it has on the node", async () => {
    const { root, input, workdir } = await scratch();
    const plan = withOutputs(
      planOf("fails", [
        { id: "a", command: copyScript("a") },
        { id: "b", dependsOn: ["a"], command: [process.execPath, "-e", "process.exit(4)"] },
      ]),
      join(root, "results"),
    );
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-outputs-failed" });
    expect(record.status).to.equal("FAILED");
    expect(record.outputs).to.equal(undefined);
    expect(await readdir(join(root, "results"))).to.deep.equal([]);
  });

  it("fails the run when a sink's output cannot be delivered (a link out of the execution), without reading the link's target", async () => {
    const { root, input, workdir } = await scratch();
    const leak = [process.execPath, "-e", `require("fs").symlinkSync("/etc/hostname", require("path").join(process.env.OUTPUT_DIR, "host"))`];
    const plan = withOutputs(planOf("leaky", [{ id: "leaky", command: leak }]), join(root, "results"));
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-outputs-leak" });
    expect(record.status).to.equal("FAILED");
    expect(record.error?.error).to.equal("UnsafeSymlink");
    expect(await exists(join(root, "results", "leaky", "host"))).to.equal(false);
    // The processor succeeded; only the delivery failed, and the record says which.
    expect(record.processors.leaky.status).to.equal("SUCCEEDED");
  });

  it("refuses a destination inside its workdir before writing anything", async () => {
    const { input, workdir } = await scratch();
    const plan = withOutputs(planOf("single", [{ id: "only", command: copyScript("o") }]), join(workdir, "efs", "results"));
    const err = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-outputs-inside" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).issues[0]).to.include({ code: "outputs_in_workdir" });
    expect((err as ValidationError).issues[0].path).to.deep.equal(["invocation", "outputs"]);
    expect(await exists(join(workdir, "executions", "wi-outputs-inside"))).to.equal(false);
  });

  it("refuses an s3:// destination when it was given no S3 client, before writing anything", async () => {
    const { input, workdir } = await scratch();
    const plan = withOutputs(planOf("single", [{ id: "only", command: copyScript("o") }]), "s3://results-bucket/runs/");
    const err = await runLocalWorkflow({ plan, inputDir: input, workdir, executionId: "wi-outputs-s3" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as ValidationError).message).to.contain("no S3 client");
    expect(await exists(join(workdir, "executions", "wi-outputs-s3"))).to.equal(false);
  });
});
