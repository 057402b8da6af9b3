import { expect } from "chai";
import { cpuToVcpu, FARGATE_CPU_UNITS } from "../../lib/model/cpu";
import { ProcessorRegistrationSchema } from "../../lib/model/processor";
import { parseProcessors } from "../../lib/model/validate";
import { ValidationError } from "../../lib/errors";

const cpuOf = (cpu: unknown) => parseProcessors([{ sourceUrl: "img", cpu }])[0].cpu;

function issueOf(cpu: unknown, index = 0) {
  const registrations = [{ sourceUrl: "a" }, { sourceUrl: "b" }, { sourceUrl: "c" }, { sourceUrl: "d" }];
  registrations[index] = { ...registrations[index], cpu } as (typeof registrations)[number];
  try {
    parseProcessors(registrations);
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).issues[0];
  }
  expect.fail(`cpu ${JSON.stringify(cpu)} was accepted`);
}

describe("a registration's cpu", () => {
  it("reads a number up to 16 as vCPU", () => {
    for (const vcpu of [0.25, 0.5, 1, 2, 4, 8, 16]) expect(cpuOf(vcpu)).to.equal(vcpu);
  });

  it("reads ECS CPU units as ECS users write them, 1024 being 1 vCPU", () => {
    expect(FARGATE_CPU_UNITS).to.deep.equal([256, 512, 1024, 2048, 4096, 8192, 16384]);
    expect(FARGATE_CPU_UNITS.map(cpuOf)).to.deep.equal([0.25, 0.5, 1, 2, 4, 8, 16]);
  });

  it("reads the strings of an ECS task definition: CPU units or vCPU", () => {
    expect(cpuOf("1024")).to.equal(1);
    expect(cpuOf("1 vCPU")).to.equal(1);
    expect(cpuOf(" 0.5 vcpu ")).to.equal(0.5);
    expect(cpuOf("16")).to.equal(16);
  });

  it("refuses a value that is neither vCPU nor Fargate CPU units at processors[i].cpu, saying what to write", () => {
    const issue = issueOf(1000, 3);
    expect(issue).to.deep.include({ code: "invalid_cpu", path: ["processors", 3, "cpu"] });
    expect(issue.message).to.equal("cpu 1000 is neither vCPU (0.25–16) nor ECS CPU units (256, 512, 1024, 2048, 4096, 8192, 16384): write vCPU such as 0.5, or CPU units such as 512");
  });

  it("refuses zero, negatives, the gap between 16 and 256, more than 16 vCPU and what is not a number", () => {
    for (const cpu of [0, -1, 17, 128, 32768, "1024 vCPU", "2 cores", "", true, null, Number.POSITIVE_INFINITY]) {
      const issue = issueOf(cpu);
      expect(issue.path, String(cpu)).to.deep.equal(["processors", 0, "cpu"]);
      expect(issue.message, String(cpu)).to.contain("is neither vCPU");
    }
  });

  it("parses back to the same vCPU, so a snapshot's registrations read the same", () => {
    const once = ProcessorRegistrationSchema.parse({ sourceUrl: "img", cpu: 2048 });
    expect(ProcessorRegistrationSchema.parse(once).cpu).to.equal(2);
    for (const value of [0.25, 1, 16, 256, 16384]) expect(cpuToVcpu(cpuToVcpu(value)!)).to.equal(cpuToVcpu(value));
  });
});
