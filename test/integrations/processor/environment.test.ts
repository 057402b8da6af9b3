import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { runLocalWorkflow } from "../../../lib/runtime/local/runner";
import { planOf, scratch } from "../../runtime/local/helpers";

/** Writes its whole environment to OUTPUT_DIR/env.json. */
const dumpEnv = [process.execPath, "-e", `require("fs").writeFileSync(require("path").join(process.env.OUTPUT_DIR, "env.json"), JSON.stringify(process.env))`];

const HOST_SECRETS = {
  COMPUTE_NODE_API_TOKEN: "api-token-must-not-leak",
  PULUMI_CONFIG_PASSPHRASE: "passphrase-must-not-leak",
  AWS_ACCESS_KEY_ID: "AKIAMUSTNOTLEAK",
  AWS_SECRET_ACCESS_KEY: "aws-secret-must-not-leak",
  AWS_SESSION_TOKEN: "aws-session-must-not-leak",
  GITHUB_TOKEN: "gh-must-not-leak",
  HOME: "/home/someone",
};

const CONTRACT = ["INPUT_DIR", "OUTPUT_DIR", "WORKFLOW_INSTANCE_ID", "SESSION_TOKEN", "REFRESH_TOKEN"];
const NODE_STATIC = ["ENVIRONMENT", "REGION", "DEPLOYMENT_MODE", "PENNSIEVE_API_HOST", "PENNSIEVE_API_HOST2"];

describe("processor environment (local runner)", () => {
  for (const computeType of ["ecs", "lambda"] as const)
    it(`gives a ${computeType} processor the contract's variables, the node's static values and PATH, and none of the runner's own`, async () => {
      const { input, workdir } = await scratch();
      const plan = planOf("env", [{ id: "dump", command: dumpEnv, computeType }]);
      const env = { PATH: process.env.PATH, PENNSIEVE_SESSION_TOKEN: "session-0123", PENNSIEVE_REFRESH_TOKEN: "refresh-0123", PENNSIEVE_API_HOST: "https://api.example", AWS_REGION: "eu-west-1", ...HOST_SECRETS };
      const record = await runLocalWorkflow({ plan, inputDir: input, workdir, env, executionId: `wi-env-${computeType}` });
      expect(record.status).to.equal("SUCCEEDED");
      const seen = JSON.parse(await readFile(join(record.artifacts!.outputs!, plan.processors[0].hash, "env.json"), "utf8")) as Record<string, string>;
      expect(Object.keys(seen).filter((k) => ![...CONTRACT, ...NODE_STATIC, "PATH"].includes(k))).to.deep.equal([]);
      for (const [name, value] of Object.entries(HOST_SECRETS)) {
        expect(seen, name).to.not.have.property(name);
        expect(Object.values(seen), name).to.not.include(value);
      }
      expect(seen).to.include({ PATH: process.env.PATH, SESSION_TOKEN: "session-0123", REFRESH_TOKEN: "refresh-0123", DEPLOYMENT_MODE: "basic", REGION: "eu-west-1", ENVIRONMENT: "local", PENNSIEVE_API_HOST: "https://api.example", WORKFLOW_INSTANCE_ID: `wi-env-${computeType}` });
      expect(seen.OUTPUT_DIR).to.equal(join(record.artifacts!.outputs!, plan.processors[0].hash));
    });
});
