import { expect } from "chai";
import { InvocationSchema, resolveOutputDestination } from "../../lib/model/invocation";

const outputsIssue = (outputs: unknown) => {
  const parsed = InvocationSchema.safeParse({ outputs });
  return parsed.success ? undefined : parsed.error.issues.find((i) => i.path[0] === "outputs")?.message;
};

describe("invocation outputs destination", () => {
  it("accepts s3:// prefixes, buckets, directories and file:// URLs", () => {
    for (const ok of ["s3://results/", "s3://results", "s3://my.results-1/pennsieve/runs/{workflowInstanceId}/", "/data/results", "results/here", "file:///data/results"])
      expect(outputsIssue(ok), ok).to.equal(undefined);
  });

  it("refuses other schemes, naming the two that work", () => {
    expect(outputsIssue("https://example.com/up")).to.contain("https:// destinations are not supported").and.contain("s3://bucket/prefix/");
    expect(outputsIssue("gs://bucket/x")).to.contain("gs://");
  });

  it("refuses a bucket that is not an S3 bucket name", () => {
    for (const bad of ["s3://Results/", "s3://ab/", "s3://-bucket/", "s3:///prefix", "s3://a..b/"]) expect(outputsIssue(bad), bad).to.contain("is not an S3 bucket name");
  });

  it("refuses key prefixes with empty, '.' or '..' segments", () => {
    for (const bad of ["s3://results/a//b/", "s3://results//", "s3://results/../other/", "s3://results/./x"]) expect(outputsIssue(bad), bad).to.contain("segment");
  });

  it("refuses unknown placeholders, naming the one there is", () => {
    expect(outputsIssue("s3://results/{executionId}/")).to.contain("unknown placeholder {executionId}").and.contain("{workflowInstanceId}");
  });

  it("refuses a relative file:// URL and an empty destination", () => {
    expect(outputsIssue("file://results")).to.contain("file:///path");
    expect(outputsIssue("")).to.be.a("string");
  });

  it("fills the run's id into every {workflowInstanceId}", () => {
    expect(resolveOutputDestination("s3://r/{workflowInstanceId}/x-{workflowInstanceId}/", { workflowInstanceId: "wi-1" })).to.equal("s3://r/wi-1/x-wi-1/");
  });
});
