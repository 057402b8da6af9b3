import { expect } from "chai";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand } from "@aws-sdk/client-sfn";
import { resolvePlan } from "../../lib/plan/resolve";
import { ValidationError } from "../../lib/errors";
import { awsOutputDestination, startWorkflowExecution } from "../../lib/runtime/aws/executions";
import { DynamoRecordStore, executionTableDefinition } from "../../lib/runtime/aws/dynamo-record-store";
import { useMoto } from "./moto";
import { createNodeFunctions, motoClients, motoNode } from "./fixtures";

const workflow = { name: "deliver", processors: [{ id: "a", sourceUrl: "img-a:1" }, { id: "b", sourceUrl: "img-b:1", dependsOn: ["a"] }] };
const processors = ["a", "b"].map((x) => ({ sourceUrl: `img-${x}:1`, computeTypes: ["lambda"] }));
const TOKENS = { sessionToken: "sess-TOKEN-abc123", refreshToken: "refresh-TOKEN-def456" };

describe("an execution's outputs destination on AWS", () => {
  describe("awsOutputDestination", () => {
    const node = { computeNodeId: "n1", outputBucketArns: ["arn:aws:s3:::results", "arn:aws:s3:::shared/pennsieve/"] };

    it("accepts a destination in an allowed bucket or below an allowed prefix, normalised to end in /", () => {
      expect(awsOutputDestination(node, "s3://results")).to.equal("s3://results");
      expect(awsOutputDestination(node, "s3://results/runs/wi-1")).to.equal("s3://results/runs/wi-1/");
      expect(awsOutputDestination(node, "s3://shared/pennsieve/")).to.equal("s3://shared/pennsieve/");
      expect(awsOutputDestination(node, "s3://shared/pennsieve/runs/")).to.equal("s3://shared/pennsieve/runs/");
    });

    it("refuses a bucket or prefix the node may not write to, saying what to add to outputBucketArns", () => {
      for (const dest of ["s3://other/x/", "s3://shared/", "s3://shared/pennsieve-other/", "s3://shared/other/pennsieve/"]) {
        const err = (() => {
          try {
            awsOutputDestination(node, dest);
          } catch (e) {
            return e as ValidationError;
          }
        })();
        expect(err, dest).to.be.instanceOf(ValidationError);
        expect(err!.issues[0]).to.include({ code: "outputs_not_allowed" });
        expect(err!.message).to.contain("outputBucketArns").and.contain("compute-node node up");
      }
    });

    it("refuses a directory destination: AWS runs upload to S3 only", () => {
      expect(() => awsOutputDestination(node, "/data/results")).to.throw(ValidationError, "upload only to s3://");
    });

    it("refuses every s3 destination on a node without outputBucketArns (provisioned before uploads)", () => {
      expect(() => awsOutputDestination({ computeNodeId: "old" }, "s3://results/")).to.throw(ValidationError, "has no outputBucketArns");
    });
  });

  describe("startWorkflowExecution (moto)", function () {
    this.timeout(40000);
    const moto = useMoto();
    let store: DynamoRecordStore;
    beforeEach(async () => {
      await moto.clients.dynamodb.send(new CreateTableCommand(executionTableDefinition("cn-executions")));
      store = new DynamoRecordStore({ clients: moto.clients, tableName: "cn-executions" });
    });

    it("refuses a destination outside outputBucketArns before any AWS mutation or record", async () => {
      const node = await motoNode(moto.endpoint, "node-out", { outputBucketArns: ["arn:aws:s3:::results"] });
      const clients = motoClients(moto.endpoint);
      const plan = resolvePlan(workflow, { processors, invocation: { outputs: "s3://elsewhere/runs/" }, mode: "secure" });
      const err = await startWorkflowExecution({ node, plan, clients, store, tokens: TOKENS, workflowInstanceId: "wi-refused" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ValidationError);
      expect(clients.mutations.calls).to.deep.equal([]);
      expect(await store.get("wi-refused")).to.equal(undefined);
    });

    it("passes the destination, with the run's id filled in, in the execution input", async () => {
      const node = await motoNode(moto.endpoint, "node-out", { outputBucketArns: ["arn:aws:s3:::results/runs"] });
      await createNodeFunctions(moto.clients, node);
      const plan = resolvePlan(workflow, { processors, invocation: { outputs: "s3://results/runs/{workflowInstanceId}" }, mode: "secure" });
      const started = await startWorkflowExecution({ node, plan, clients: moto.clients, store, tokens: TOKENS, workflowInstanceId: "wi-deliver-1" });
      const described = await moto.clients.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
      expect(JSON.parse(described.input!).outputs).to.equal("s3://results/runs/wi-deliver-1/");
      // The record keeps the invocation as given; the resolved destination is the run's.
      expect((await store.get("wi-deliver-1"))!.snapshot.invocation.outputs).to.equal("s3://results/runs/{workflowInstanceId}");
    });
  });
});
