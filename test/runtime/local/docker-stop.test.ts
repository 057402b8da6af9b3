import { expect } from "chai";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { cancelReason } from "../../../lib/runtime/local";
import { resolvePlan } from "../../../lib/plan/resolve";
import { levelsMachine } from "./fixtures/levels-machine";
import { scratch } from "./helpers";

const exists = (p: string) => access(p).then(() => true, () => false);

/**
 * A stand-in docker CLI: `run` plays a client that ignores SIGTERM (as an attached client forwarding
 * it to a container that does not stop would), so only the runner's SIGKILL ends it; `rm` records
 * its arguments, as the engine would remove the container.
 */
async function fakeDocker(root: string): Promise<string> {
  const bin = join(root, "bin");
  await mkdir(bin);
  await writeFile(
    join(bin, "docker"),
    `#!/bin/sh\nif [ "$1" = run ]; then trap '' TERM; sleep 30; exit 0; fi\nif [ "$1" = rm ]; then printf '%s ' "$@" >> "${root}/docker-rm.txt"; exit 0; fi\nexit 1\n`,
    { mode: 0o755 },
  );
  return bin;
}

describe("stopping a Docker processor", function () {
  this.timeout(20_000);

  it("removes the processor's container once its killed `docker run` client is gone, on a cancel", async () => {
    const { root, input, workdir } = await scratch();
    const bin = await fakeDocker(root);
    const plan = resolvePlan({ name: "docker-stop", processors: [{ id: "img", sourceUrl: "ghcr.io/org/img:1" }] }, { processors: [{ sourceUrl: "ghcr.io/org/img:1" }] });
    const controller = new AbortController();
    const record = await runLocalWorkflow({
      plan,
      inputDir: input,
      workdir,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      compile: levelsMachine(),
      executionId: "wi-docker-stop",
      dockerReachable: async () => true,
      signal: controller.signal,
      stopGraceMs: 100,
      onEvent: (e) => e.type === "processor-started" && controller.abort(cancelReason()),
    });
    expect(record.status).to.equal("CANCELED");
    expect(record.processors.img.status).to.equal("CANCELED");
    // The removal is awaited before the run ends: the record is final only once the container is gone.
    expect((await readFile(join(root, "docker-rm.txt"), "utf8")).trim()).to.equal(`rm -f cn-wi-docker-stop-${plan.processors[0].hash}`);
  });

  it("leaves the engine alone when the client exits by itself", async () => {
    const { root, input, workdir } = await scratch();
    const bin = join(root, "bin");
    await mkdir(bin);
    await writeFile(join(bin, "docker"), `#!/bin/sh\nif [ "$1" = rm ]; then printf '%s ' "$@" >> "${root}/docker-rm.txt"; fi\nexit 0\n`, { mode: 0o755 });
    const plan = resolvePlan({ name: "docker-ok", processors: [{ id: "img", sourceUrl: "ghcr.io/org/img:1" }] }, { processors: [{ sourceUrl: "ghcr.io/org/img:1" }] });
    const record = await runLocalWorkflow({ plan, inputDir: input, workdir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, compile: levelsMachine(), executionId: "wi-docker-ok", dockerReachable: async () => true });
    expect(record.status).to.equal("SUCCEEDED");
    expect(await exists(join(root, "docker-rm.txt"))).to.equal(false);
  });
});
