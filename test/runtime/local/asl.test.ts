import { expect } from "chai";
import { capTimeouts, MAX_LOCAL_TIMEOUT_SECONDS, taskStates } from "../../../lib/runtime/local/asl";

describe("capTimeouts", () => {
  const machine = {
    StartAt: "P",
    TimeoutSeconds: 99999999,
    States: {
      P: {
        Type: "Parallel",
        Branches: [{ StartAt: "Run", States: { Run: { Type: "Task", Resource: "arn:aws:states:::ecs:runTask.sync", TimeoutSeconds: 99999999, End: true } } }],
        Next: "M",
      },
      M: { Type: "Map", ItemProcessor: { StartAt: "Bare", States: { Bare: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", End: true } } }, Next: "Short" },
      Short: { Type: "Task", Resource: "arn:aws:states:::lambda:invoke", TimeoutSeconds: 30, End: true },
    },
  };

  it("caps Step Functions' maximum timeout to what a Node timer holds, in nested states too", () => {
    const capped = capTimeouts(machine);
    const tasks = taskStates(capped);
    expect(capped.TimeoutSeconds).to.equal(MAX_LOCAL_TIMEOUT_SECONDS);
    expect(tasks.get("Run")!.TimeoutSeconds).to.equal(MAX_LOCAL_TIMEOUT_SECONDS);
    expect(MAX_LOCAL_TIMEOUT_SECONDS * 1000).to.be.at.most(2 ** 31 - 1);
  });

  it("gives a Task without a timeout none in practice, as on AWS, and keeps short ones", () => {
    const tasks = taskStates(capTimeouts(machine));
    expect(tasks.get("Bare")!.TimeoutSeconds).to.equal(MAX_LOCAL_TIMEOUT_SECONDS);
    expect(tasks.get("Short")!.TimeoutSeconds).to.equal(30);
  });

  it("gives the states it is told to lift the longest timeout", () => {
    const tasks = taskStates(capTimeouts(machine, new Set(["Short"])));
    expect(tasks.get("Short")!.TimeoutSeconds).to.equal(MAX_LOCAL_TIMEOUT_SECONDS);
  });

  it("leaves the compiled definition itself unchanged", () => {
    capTimeouts(machine);
    expect(machine.TimeoutSeconds).to.equal(99999999);
  });
});
