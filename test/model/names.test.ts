import { expect } from "chai";
import { LAMBDA_NAME_PATTERN, lambdaFunctionName, lambdaFunctionPrefix, nodeNamePart, stateMachineName, taskDefinitionFamily } from "../../lib/model/names";

describe("lambdaFunctionName", () => {
  it("follows proc-lambda-{node}-{imageHash} for a short valid node id", () => {
    expect(lambdaFunctionName("node-1", "ghcr.io/org/conv:1")).to.match(/^proc-lambda-node-1-[0-9a-f]{12}$/);
  });

  it("stays within Lambda's 64-character [A-Za-z0-9_-] rule for long or odd node ids", () => {
    for (const node of ["n".repeat(200), "team/α β:prod", "a--b", "x".repeat(39), "x".repeat(40)]) {
      const name = lambdaFunctionName(node, "img:1");
      expect(name, node).to.match(LAMBDA_NAME_PATTERN);
      expect(name.startsWith(lambdaFunctionPrefix(node))).to.equal(true);
    }
  });

  it("gives different node ids different names even when shortening makes their readable parts equal", () => {
    const a = "p".repeat(60) + "a";
    const b = "p".repeat(60) + "b";
    expect(nodeNamePart(a)).to.not.equal(nodeNamePart(b));
    expect(lambdaFunctionName(a, "img")).to.not.equal(lambdaFunctionName(b, "img"));
  });

  it("never lets a shortened node part equal a node id kept as is", () => {
    const shortened = nodeNamePart("team/α");
    expect(shortened).to.include("--");
    expect(nodeNamePart(shortened)).to.not.equal(shortened);
  });

  it("changes with the image and not between calls", () => {
    expect(lambdaFunctionName("n", "img:1")).to.equal(lambdaFunctionName("n", "img:1"));
    expect(lambdaFunctionName("n", "img:1")).to.not.equal(lambdaFunctionName("n", "img:2"));
  });
});

describe("taskDefinitionFamily", () => {
  const base = { image: "img:1", cpu: 0.5, memory: 1024, ephemeralStorage: 20, gpu: 0, commandArguments: [] };
  it("is shared by identical configurations and differs when any resource changes", () => {
    expect(taskDefinitionFamily("n", base)).to.equal(taskDefinitionFamily("n", { ...base }));
    expect(taskDefinitionFamily("n", base)).to.not.equal(taskDefinitionFamily("n", { ...base, memory: 2048 }));
    expect(taskDefinitionFamily("n", base)).to.match(/^[A-Za-z0-9_-]{1,255}$/);
  });
});

describe("stateMachineName", () => {
  it("fits Step Functions' 80-character name limit for long workflow, node and child names", () => {
    const name = stateMachineName("node-".repeat(20), "My Analysis Pipeline ".repeat(10), "child-".repeat(30));
    expect(name.length).to.be.at.most(80);
    expect(name).to.match(/^[A-Za-z0-9_-]+$/);
  });
});
