import { expect } from "chai";
import { ProvisionStore } from "../../lib/provision/store";

/** What every ProvisionStore must do with workflow definitions and execution events (the file and DynamoDB stores run it). */
export function describeStoreDefinitionsAndEvents(store: () => ProvisionStore): void {
  it("keeps workflow definitions per node, lists them by name, and deletes one", async () => {
    const def = (nodeId: string, name: string) => ({ nodeId, name, workflow: { name, processors: [] }, contentHash: "h", createdAt: "t", updatedAt: "t" });
    await store().putWorkflow(def("wf-node", "b"));
    await store().putWorkflow(def("wf-node", "a"));
    await store().putWorkflow(def("wf-other", "a"));
    expect((await store().listWorkflows("wf-node")).map((w) => w.name)).to.deep.equal(["a", "b"]);
    expect(await store().getWorkflow("wf-node", "b")).to.deep.equal(def("wf-node", "b"));
    await store().deleteWorkflow("wf-node", "b");
    expect(await store().getWorkflow("wf-node", "b")).to.equal(undefined);
    expect((await store().listWorkflows("wf-other")).map((w) => w.name)).to.deep.equal(["a"]);
  });

  it("returns an execution's status events in sequence order", async () => {
    const event = (sequence: number) => ({ sequence, timestamp: "t", executionId: "wi-ev", type: "execution-status" as const, status: "RUNNING" as const });
    for (const sequence of [1, 2, 3]) await store().appendExecutionEvent(event(sequence));
    expect((await store().readExecutionEvents("wi-ev")).map((e) => e.sequence)).to.deep.equal([1, 2, 3]);
    expect(await store().readExecutionEvents("wi-none")).to.deep.equal([]);
  });
}
