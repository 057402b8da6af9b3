import { expect } from "chai";
import { createReadyNode, removeDir, startTestService, TestService } from "./helpers";

const printEnv = [process.execPath, "-e", `console.log(JSON.stringify(process.env))`];

describe("provisioner service: processor environment", () => {
  let svc: TestService;
  const saved: Record<string, string | undefined> = {};
  const hostSecrets = { COMPUTE_NODE_API_TOKEN: "service-api-token-not-for-processors", PULUMI_CONFIG_PASSPHRASE: "stack-passphrase-not-for-processors", AWS_SECRET_ACCESS_KEY: "aws-secret-not-for-processors" };
  beforeEach(async () => {
    for (const [name, value] of Object.entries(hostSecrets)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    svc = await startTestService();
  });
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("runs processors without the service's own variables: its API token, the stack passphrase, AWS credentials", async () => {
    await createReadyNode(svc, "env-1");
    const started = await svc.post("/v1/nodes/env-1/workflows/env/executions", { workflow: { processors: [{ id: "a", sourceUrl: "local/a" }] }, processors: [{ sourceUrl: "local/a", localCommand: printEnv }] }).expect(202);
    let record: Record<string, any> = {};
    for (let i = 0; i < 500 && !["SUCCEEDED", "FAILED"].includes(record.status); i++) {
      record = (await svc.get(`/v1/executions/${started.body.executionId}`).expect(200)).body;
      if (!["SUCCEEDED", "FAILED"].includes(record.status)) await new Promise((r) => setTimeout(r, 20));
    }
    expect(record.status).to.equal("SUCCEEDED");
    expect(record.processors.a).to.not.have.property("logFile");
    const log = (await svc.get(`/v1/executions/${started.body.executionId}/processors/a/logs`).expect(200)).text;
    const printed = JSON.parse(log.split("\n").find((line) => line.startsWith("{"))!) as Record<string, string>;
    expect(printed).to.have.property("OUTPUT_DIR");
    for (const [name, value] of Object.entries(hostSecrets)) {
      expect(printed, name).to.not.have.property(name);
      expect(log).to.not.contain(value);
    }
  });
});
