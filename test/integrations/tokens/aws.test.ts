import { expect } from "chai";
import { DeleteSecretCommand } from "@aws-sdk/client-secrets-manager";
import { deleteTokenSecret } from "../../../lib/integrations/tokens/aws";

const sdkError = (name: string) => Object.assign(new Error(`${name} detail`), { name, $metadata: { httpStatusCode: 400 } });

/** A Secrets Manager stand-in holding some secrets; DeleteSecret removes them. */
function secretsWith(names: string[], failWith?: string) {
  const held = new Set(names);
  const seen: DeleteSecretCommand["input"][] = [];
  return {
    held,
    seen,
    send: async (command: unknown) => {
      if (!(command instanceof DeleteSecretCommand)) throw new Error("unexpected command");
      seen.push(command.input);
      if (failWith) throw sdkError(failWith);
      if (!held.delete(command.input.SecretId!)) throw sdkError("ResourceNotFoundException");
      return {};
    },
  };
}

describe("deleteTokenSecret (the one delete of an execution's token secret)", () => {
  it("deletes the secret at once, with no recovery window in which the tokens would linger", async () => {
    const secrets = secretsWith(["cn/n1/wi-1", "cn/n1/wi-2"]);
    expect(await deleteTokenSecret(secrets as never, "cn/n1/wi-1")).to.equal("deleted");
    expect([...secrets.held]).to.deep.equal(["cn/n1/wi-2"]);
    expect(secrets.seen[0]).to.deep.include({ ForceDeleteWithoutRecovery: true });
  });

  it("answers absent for a secret already gone, so finalize, tracking and cleanup can all try", async () => {
    const secrets = secretsWith([]);
    expect(await deleteTokenSecret(secrets as never, "cn/n1/wi-1")).to.equal("absent");
  });

  it("rejects with the SDK error for anything else (no permission), for the caller to wrap or tolerate", async () => {
    const secrets = secretsWith(["cn/n1/wi-1"], "AccessDeniedException");
    const err = await deleteTokenSecret(secrets as never, "cn/n1/wi-1").catch((e: Error) => e);
    expect((err as Error).name).to.equal("AccessDeniedException");
  });

  it("runs the call within the caller's rate budget", async () => {
    const secrets = secretsWith(["cn/n1/wi-1"]);
    let inBudget = 0;
    const limit = async <T>(call: () => Promise<T>) => {
      inBudget++;
      return call();
    };
    expect(await deleteTokenSecret(secrets as never, "cn/n1/wi-1", { limit })).to.equal("deleted");
    expect(inBudget).to.equal(1);
    expect(secrets.held.size).to.equal(0);
  });
});
