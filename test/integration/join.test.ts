import { expect } from "chai";
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendTaskSuccessCommand, SFNClient, SFNServiceException, TaskDoesNotExist, TaskTimedOut } from "@aws-sdk/client-sfn";
import { createJoinHandler, JoinSignal, sfnSignal } from "../../lib/integrations/join/lambda";
import { useMoto } from "./moto";

const TABLE = "joins";
const NOW = Date.UTC(2026, 0, 1);

type Outcome = { token: string; outcome: "success" } | { token: string; outcome: "failure"; error: string; cause: string };

/** Records every signal; `released(token)` resolves once that token has been signalled successfully. */
class RecordingSignal implements JoinSignal {
  readonly outcomes: Outcome[] = [];
  private readonly waiters = new Map<string, () => void>();
  constructor(private readonly onSuccess: (token: string) => void = () => undefined) {}
  async success(token: string) {
    this.onSuccess(token);
    this.outcomes.push({ token, outcome: "success" });
    this.waiters.get(token)?.();
  }
  async failure(token: string, error: string, cause: string) {
    this.outcomes.push({ token, outcome: "failure", error, cause });
  }
  released(token: string): Promise<void> {
    return new Promise((resolve) => this.waiters.set(token, resolve));
  }
  successes(): string[] {
    return this.outcomes.filter((o) => o.outcome === "success").map((o) => o.token).sort();
  }
}

// mulberry32: a seeded generator, so a failing interleaving can be replayed.
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The error a call rejects with (fails the test when it resolves). */
async function rejection(call: Promise<unknown>): Promise<Error> {
  const outcome = await call.then(() => undefined, (e: Error) => e);
  if (!outcome) throw new Error("expected the call to reject");
  return outcome;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("join handler (moto)", function () {
  this.timeout(60000);
  const moto = useMoto();
  let dynamodb: DynamoDBClient;
  let signal: RecordingSignal;
  let join: (event: unknown) => Promise<unknown>;
  beforeEach(async () => {
    dynamodb = moto.clients.dynamodb as DynamoDBClient;
    await dynamodb.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
      }),
    );
    signal = new RecordingSignal();
    join = createJoinHandler({ dynamodb, signal, env: { JOIN_TABLE: TABLE }, now: () => NOW });
  });

  const wait = (unit: string, after: string[], wi = "wi-1") => join({ action: "join-wait", workflowInstanceId: wi, unit, after, token: `t-${unit}` });
  const release = (done: string[], dependants: string[], wi = "wi-1") => join({ action: "join-release", workflowInstanceId: wi, done, dependants });
  const abort = (failed: string, wi = "wi-1") => join({ action: "join-abort", workflowInstanceId: wi, failed });

  it("releases a unit exactly once when its last dependency finishes after it registered", async () => {
    expect(await wait("c", ["a", "b"])).to.deep.equal({ done: true });
    await release(["a"], ["c"]);
    expect(signal.outcomes).to.deep.equal([]);
    await release(["b"], ["c"]);
    expect(signal.outcomes).to.deep.equal([{ token: "t-c", outcome: "success" }]);
  });

  it("releases a unit at registration when its dependencies finished before it registered", async () => {
    await release(["a", "a#twin"], ["c"]);
    await release(["b"], ["c", "d"]);
    await wait("c", ["a", "a#twin", "b"]);
    expect(signal.outcomes).to.deep.equal([{ token: "t-c", outcome: "success" }]);
  });

  it("does not release a unit while one dependency is still running", async () => {
    await release(["a"], ["c"]);
    await wait("c", ["a", "b"]);
    await release(["x"], ["c"]);
    expect(signal.outcomes).to.deep.equal([]);
  });

  it("releases the token of the latest registration when a wait is retried", async () => {
    await join({ action: "join-wait", workflowInstanceId: "wi-1", unit: "c", after: ["a"], token: "first" });
    await join({ action: "join-wait", workflowInstanceId: "wi-1", unit: "c", after: ["a"], token: "second" });
    await release(["a"], ["c"]);
    expect(signal.outcomes).to.deep.equal([{ token: "second", outcome: "success" }]);
  });

  it("releases each of many dependants whose last dependency just finished, and no other, with bounded concurrency", async () => {
    const units = Array.from({ length: 120 }, (_, i) => `d${i}`);
    const blocked = (i: number) => i % 3 === 0;
    await Promise.all(units.map((u, i) => wait(u, blocked(i) ? ["root", "other"] : ["root"])));
    let inFlight = 0;
    let peak = 0;
    const counting = {
      send: async (command: never) => {
        peak = Math.max(peak, ++inFlight);
        try {
          return await dynamodb.send(command);
        } finally {
          inFlight--;
        }
      },
    };
    const fanOut = createJoinHandler({ dynamodb: counting as unknown as DynamoDBClient, signal, env: { JOIN_TABLE: TABLE } });
    await fanOut({ action: "join-release", workflowInstanceId: "wi-1", done: ["root"], dependants: units });
    expect(signal.successes()).to.deep.equal(units.filter((_, i) => !blocked(i)).map((u) => `t-${u}`).sort());
    expect(peak).to.be.within(2, 16);
  });

  it("fails every waiting unit when the instance is aborted, and leaves released units alone", async () => {
    await wait("b", ["a"]);
    await wait("c", ["a", "x"]);
    await wait("done", ["z"]);
    await release(["z"], ["done"]);
    await abort("a processor of part c1");
    expect(signal.outcomes).to.have.deep.members([
      { token: "t-done", outcome: "success" },
      { token: "t-b", outcome: "failure", error: "ComputeNode.JoinAborted", cause: 'a processor of part c1 failed, so "b" will not run' },
      { token: "t-c", outcome: "failure", error: "ComputeNode.JoinAborted", cause: 'a processor of part c1 failed, so "c" will not run' },
    ]);
  });

  it("answers every abort with the instance's first failure, so each part's machine fails with the processor's error", async () => {
    await wait("c", ["a"]);
    const first = await join({ action: "join-abort", workflowInstanceId: "wi-1", failed: 'processor "a"', error: "States.TaskFailed", cause: 'processor "a" failed' });
    const later = await join({ action: "join-abort", workflowInstanceId: "wi-1", failed: "a step of part c2", error: "States.ExceedToleratedFailureThreshold", cause: "threshold" });
    expect(first).to.deep.include({ failed: 'processor "a"', error: "States.TaskFailed", cause: 'processor "a" failed' });
    expect(later).to.deep.include({ failed: 'processor "a"', error: "States.TaskFailed", cause: 'processor "a" failed' });
    // Every abort fails the waiter again (Step Functions refuses all but the first), always with the first failure.
    const toC = signal.outcomes.filter((o) => o.token === "t-c");
    expect(toC).to.not.be.empty;
    for (const o of toC) expect(o).to.deep.equal({ token: "t-c", outcome: "failure", error: "ComputeNode.JoinAborted", cause: 'processor "a" failed, so "c" will not run' });
  });

  it("fails a unit that registers after the abort", async () => {
    await release(["a"], ["c"]);
    await abort("a processor of part c2");
    await wait("c", ["a", "b"]);
    expect(signal.outcomes).to.deep.equal([{ token: "t-c", outcome: "failure", error: "ComputeNode.JoinAborted", cause: 'a processor of part c2 failed, so "c" will not run' }]);
  });

  it("starts nothing after an abort, not even a unit whose dependencies all finished", async () => {
    await wait("c", ["a"]);
    await release(["z"], ["d"]);
    await join({ action: "join-abort", workflowInstanceId: "wi-1", failed: 'processor "x"', error: "States.TaskFailed", cause: 'processor "x" failed' });
    // c's last dependency finishes after the abort; d registers complete after it.
    await release(["a"], ["c"]);
    await wait("d", ["z"]);
    expect(signal.outcomes.filter((o) => o.outcome === "success")).to.deep.equal([]);
    expect(signal.outcomes.map((o) => o.token)).to.include.members(["t-c", "t-d"]);
  });

  it("treats a unit named like the abort marker as an ordinary unit", async () => {
    await wait("abort", ["a#1"]);
    await wait("u#x", ["a#1"]);
    await release(["a#1"], ["abort", "u#x"]);
    expect(signal.successes()).to.deep.equal(["t-abort", "t-u#x"]);
  });

  it("keeps two workflow instances apart", async () => {
    await wait("c", ["a"], "wi-1");
    await wait("c", ["a"], "wi-2");
    await release(["a"], ["c"], "wi-2");
    await abort("a processor of part c3", "wi-3");
    expect(signal.outcomes).to.have.length(1);
    await abort("a processor of part c1", "wi-1");
    expect(signal.outcomes).to.deep.equal([
      { token: "t-c", outcome: "success" },
      { token: "t-c", outcome: "failure", error: "ComputeNode.JoinAborted", cause: 'a processor of part c1 failed, so "c" will not run' },
    ]);
  });

  it("keeps items for a year and a day, as long as a Standard execution may wait", async () => {
    await wait("c", ["a"]);
    const out = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "wi-1" }, sk: { S: "u#c" } } }));
    expect(Number(out.Item?.expiresAt?.N)).to.equal(NOW / 1000 + 366 * 24 * 3600);
  });

  for (const seed of [1, 7, 42]) {
    it(`releases every unit of a random DAG exactly once and only after its dependencies, in any interleaving (seed ${seed})`, async () => {
      const rand = seeded(seed);
      const units = Array.from({ length: 40 }, (_, i) => `u${i}`);
      const processors = new Map(units.map((u) => [u, rand() < 0.3 ? [u, `${u}#twin`] : [u]]));
      const deps = new Map(units.map((u, i) => [u, units.slice(0, i).filter(() => rand() < 0.12)]));
      const dependants = new Map(units.map((u) => [u, units.filter((d) => deps.get(d)!.includes(u))]));
      const finished = new Set<string>();
      const early: string[] = [];
      signal = new RecordingSignal((token) => {
        const unit = token.slice(2);
        if (!deps.get(unit)!.every((d) => finished.has(d))) early.push(unit);
      });
      join = createJoinHandler({ dynamodb, signal, env: { JOIN_TABLE: TABLE } });
      const delays = new Map(units.map((u) => [u, [rand() * 30, rand() * 30]]));

      await Promise.all(
        units.map(async (unit) => {
          const [beforeWait, running] = delays.get(unit)!;
          await sleep(beforeWait);
          if (deps.get(unit)!.length) {
            const released = signal.released(`t-${unit}`);
            await wait(unit, deps.get(unit)!.flatMap((d) => processors.get(d)!));
            await released;
          }
          await sleep(running);
          finished.add(unit);
          await release(processors.get(unit)!, dependants.get(unit)!);
        }),
      );

      expect(early).to.deep.equal([]);
      expect(signal.successes()).to.deep.equal(units.filter((u) => deps.get(u)!.length).map((u) => `t-${u}`).sort());
      expect(signal.outcomes.every((o) => o.outcome === "success")).to.equal(true);
    });
  }

  const valid = {
    "join-wait": { action: "join-wait", workflowInstanceId: "wi-1", unit: "c", after: ["a"], token: "secret-token" },
    "join-release": { action: "join-release", workflowInstanceId: "wi-1", done: ["a"], dependants: ["c"] },
    "join-abort": { action: "join-abort", workflowInstanceId: "wi-1", failed: "a" },
  };
  for (const [action, payload] of Object.entries(valid)) {
    for (const field of Object.keys(payload)) {
      it(`rejects a ${action} payload whose ${field} is missing, naming the field`, async () => {
        const { [field]: _dropped, ...rest } = payload as Record<string, unknown>;
        const err = await rejection(join(rest));
        expect(err).to.be.instanceOf(Error);
        expect(err.name).to.equal("JoinInputError");
        expect(err.message).to.include(`"${field}"`);
        expect(signal.outcomes).to.deep.equal([]);
      });
    }
  }

  it("rejects an empty after list and a non-string processor id without echoing the payload", async () => {
    const empty = await rejection(join({ ...valid["join-wait"], after: [] }));
    expect(empty.message).to.equal('join payload: "after" must be a non-empty array of non-empty strings, got an empty array');
    const bad = await rejection(join({ ...valid["join-release"], done: ["a", 3] }));
    expect(bad.message).to.include('"done"');
    const token = await rejection(join({ ...valid["join-wait"], after: "secret-token" }));
    expect(token.message).to.include('"after"').and.not.include("secret-token");
  });

  it("refuses to run without the JOIN_TABLE environment variable", async () => {
    const err = await rejection(createJoinHandler({ dynamodb, signal, env: {} })(valid["join-abort"]));
    expect(err.name).to.equal("JoinConfigError");
    expect(err.message).to.include("JOIN_TABLE");
  });
});

describe("sfnSignal", function () {
  this.timeout(30000);
  const moto = useMoto();

  it("ignores a token Step Functions no longer knows (moto answers InvalidToken)", async () => {
    const sfn = moto.clients.sfn as SFNClient;
    const raw = await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: "bogus-token", output: "{}" })));
    expect(raw.name).to.equal("InvalidToken");
    const signal = sfnSignal(sfn);
    await signal.success("bogus-token");
    await signal.failure("bogus-token", "ComputeNode.JoinAborted", "cause");
  });

  // moto cannot time a task out on demand: a fake `send` throws the SDK's own exception classes.
  it("ignores TaskTimedOut and TaskDoesNotExist, and lets any other error through for a retry", async () => {
    const thrown: Error[] = [
      new TaskTimedOut({ message: "timed out", $metadata: {} }),
      new TaskDoesNotExist({ message: "gone", $metadata: {} }),
      new SFNServiceException({ name: "ThrottlingException", $fault: "client", message: "slow down", $metadata: {} }),
    ];
    const signal = sfnSignal({ send: async () => Promise.reject(thrown.shift()) } as unknown as SFNClient);
    await signal.success("t1");
    await signal.failure("t2", "E", "c");
    const err = await rejection(signal.success("t3"));
    expect(err.name).to.equal("ThrottlingException");
  });
});
