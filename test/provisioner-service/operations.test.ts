import { expect } from "chai";
import { createReadyNode, readSse, removeDir, SseMessage, startTestService, TestService, TOKEN, waitForOperation } from "./helpers";

/**
 * Reads an SSE response as it arrives: `onMessage` sees each message when the server sends it, so a
 * test can act on an event (release a held operation, cancel it) instead of sleeping.
 */
async function streamSse(url: string, onMessage: (message: SseMessage) => void): Promise<{ status: number; contentType: string | null; messages: SseMessage[] }> {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const messages: SseMessage[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = res.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split("\n").filter((l) => l && !l.startsWith(":"));
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      const data = field("data");
      if (data === undefined) continue;
      const message = { id: field("id"), event: field("event"), data: JSON.parse(data) };
      messages.push(message);
      onMessage(message);
    }
    if (done) break;
  }
  return { status: res.status, contentType: res.headers.get("content-type"), messages };
}

describe("provisioner service: operations", () => {
  let svc: TestService;
  beforeEach(async () => (svc = await startTestService()));
  afterEach(async () => {
    await svc.close();
    await removeDir(svc.dataDir);
  });

  describe("events (SSE)", () => {
    it("streams an operation's events live, in sequence order, ending with operation-finished", async () => {
      const hold = svc.engine.holdNext("ev-1", "up");
      const res = await svc.post("/v1/nodes", { id: "ev-1", region: "us-east-1" }).expect(202);
      // The engine waits after its first event until the stream has delivered it: the rest arrive live.
      const { status, contentType, messages } = await streamSse(`${svc.url}/v1/operations/${res.body.operation.id}/events`, (m) => m.event === "resource-pre" && hold.release());
      expect(status).to.equal(200);
      expect(contentType).to.match(/^text\/event-stream/);
      expect(messages.map((m) => Number(m.id))).to.deep.equal(messages.map((_, i) => i + 1));
      expect(messages.map((m) => m.event)).to.deep.equal(messages.map((m) => m.data.type));
      const types = messages.map((m) => m.event);
      expect(types[0]).to.equal("operation-queued");
      expect(types[1]).to.equal("operation-started");
      expect(types.filter((t) => t === "resource-pre")).to.have.length(3);
      expect(types.at(-2)).to.equal("summary");
      expect(types.at(-1)).to.equal("operation-finished");
      expect(messages.at(-1)!.data.state).to.equal("succeeded");
    });

    it("replays only the events after Last-Event-ID, and answers 204 when nothing is left", async () => {
      const res = await svc.post("/v1/nodes", { id: "ev-2", region: "us-east-1" }).expect(202);
      const op = await waitForOperation(svc, res.body.operation.id);
      const url = `${svc.url}/v1/operations/${op.id}/events`;
      const all = await readSse(url);
      expect(all.messages.at(-1)!.event).to.equal("operation-finished");
      const tail = await readSse(url, { "Last-Event-ID": "3" });
      expect(tail.messages.map((m) => m.id)).to.deep.equal(all.messages.slice(3).map((m) => m.id));
      const byQuery = await readSse(`${url}?lastEventId=3`);
      expect(byQuery.messages.map((m) => m.id)).to.deep.equal(tail.messages.map((m) => m.id));
      const done = await readSse(url, { "Last-Event-ID": all.messages.at(-1)!.id! });
      expect(done.status).to.equal(204);
      const bad = await readSse(url, { "Last-Event-ID": "x" });
      expect(bad.status).to.equal(400);
    });

    it("answers 404 for the events of an unknown operation", async () => {
      expect((await readSse(`${svc.url}/v1/operations/op-nope/events`)).status).to.equal(404);
    });
  });

  describe("cancel", () => {
    it("stops a running operation gracefully: cancelled, node failed, stack lock released", async () => {
      const hold = svc.engine.holdNext("c-1", "up");
      const res = await svc.post("/v1/nodes", { id: "c-1", region: "us-east-1" }).expect(202);
      // Cancelled once the engine has started (its first event is out and it is held): a running operation.
      let requestCancel!: (answer: Promise<{ body: { cancelRequested: boolean } }>) => void;
      const cancelled = new Promise<{ body: { cancelRequested: boolean } }>((resolve) => (requestCancel = resolve));
      let asked = false;
      const streamed = streamSse(`${svc.url}/v1/operations/${res.body.operation.id}/events`, (m) => {
        if (m.event !== "resource-pre" || asked) return;
        asked = true;
        requestCancel(svc.post(`/v1/operations/${res.body.operation.id}/cancel`).expect(202));
      });
      const cancel = await cancelled;
      expect(cancel.body.cancelRequested).to.equal(true);
      const op = await waitForOperation(svc, res.body.operation.id);
      hold.release();
      expect(op.state).to.equal("cancelled");
      const types = (await streamed).messages.map((m) => m.event);
      expect(types).to.include.members(["cancel-requested", "cancel"]);
      expect(types.at(-1)).to.equal("operation-finished");
      expect((await svc.get("/v1/nodes/c-1").expect(200)).body.status).to.equal("failed");
      expect(svc.engine.backend.stacks.get("c-1")!.lock).to.equal(undefined);
      const again = await svc.patch("/v1/nodes/c-1", { options: {} }).expect(202);
      expect((await waitForOperation(svc, again.body.operation.id)).state).to.equal("succeeded");
    });

    it("cancels a queued operation before it reaches the engine", async () => {
      await svc.close();
      svc = await startTestService({ maxConcurrentOperations: 1 });
      const hold = svc.engine.holdNext("q-1", "up");
      const first = await svc.post("/v1/nodes", { id: "q-1", region: "us-east-1" }).expect(202);
      const second = await svc.post("/v1/nodes", { id: "q-2", region: "us-east-1" }).expect(202);
      expect((await svc.get(`/v1/operations/${second.body.operation.id}`).expect(200)).body.state).to.equal("queued");
      await svc.post(`/v1/operations/${second.body.operation.id}/cancel`).expect(202);
      expect((await svc.get(`/v1/operations/${second.body.operation.id}`).expect(200)).body.state).to.equal("cancelled");
      hold.release();
      expect((await waitForOperation(svc, first.body.operation.id)).state).to.equal("succeeded");
      expect(svc.engine.calls.filter((c) => c.nodeId === "q-2")).to.deep.equal([]);
    });

    it("refuses to cancel a finished operation with 409 and an unknown one with 404", async () => {
      const opId = await createReadyNode(svc, "c-2");
      const res = await svc.post(`/v1/operations/${opId}/cancel`).expect(409);
      expect(res.body.error.holderId).to.equal(opId);
      await svc.post(`/v1/operations/op-unknown/cancel`).expect(404);
    });
  });

  describe("Idempotency-Key", () => {
    it("answers a repeated request with the same operation and runs it once", async () => {
      const body = { id: "i-1", region: "us-east-1", options: { b: 2, a: 1 } };
      const first = await svc.post("/v1/nodes", body).set("Idempotency-Key", "key-1").expect(202);
      const again = await svc.post("/v1/nodes", { region: "us-east-1", options: { a: 1, b: 2 }, id: "i-1" }).set("Idempotency-Key", "key-1");
      expect([200, 202]).to.include(again.status);
      expect(again.body.operation.id).to.equal(first.body.operation.id);
      await waitForOperation(svc, first.body.operation.id);
      const late = await svc.post("/v1/nodes", body).set("Idempotency-Key", "key-1").expect(200);
      expect(late.body.operation).to.include({ id: first.body.operation.id, state: "succeeded" });
      expect(late.headers.location).to.equal(`/v1/operations/${first.body.operation.id}`);
      expect(svc.engine.calls.filter((c) => c.kind === "up")).to.have.length(1);
    });

    it("answers concurrent repeats with one operation", async () => {
      const body = { id: "i-2", region: "us-east-1" };
      const responses = await Promise.all([1, 2, 3].map(() => svc.post("/v1/nodes", body).set("Idempotency-Key", "key-2")));
      expect(responses.map((r) => r.status)).to.deep.equal([202, 202, 202]);
      expect(new Set(responses.map((r) => r.body.operation.id)).size).to.equal(1);
    });

    it("refuses the same key with a different request with 422", async () => {
      await svc.post("/v1/nodes", { id: "i-3", region: "us-east-1" }).set("Idempotency-Key", "key-3").expect(202);
      const res = await svc.post("/v1/nodes", { id: "i-3", region: "eu-west-1" }).set("Idempotency-Key", "key-3").expect(422);
      expect(res.body.error.code).to.equal("idempotency_key_reused");
      await svc.del("/v1/nodes/i-3").set("Idempotency-Key", "key-3").expect(422);
    });

    it("binds nothing when the request is refused, so the key can be used again", async () => {
      await svc.patch("/v1/nodes/i-4", { options: {} }).set("Idempotency-Key", "key-4").expect(404);
      await createReadyNode(svc, "i-4");
      await svc.patch("/v1/nodes/i-4", { options: {} }).set("Idempotency-Key", "key-4").expect(202);
    });

    it("persists keys across a restart", async () => {
      const first = await svc.post("/v1/nodes", { id: "i-5", region: "us-east-1" }).set("Idempotency-Key", "key-5").expect(202);
      await waitForOperation(svc, first.body.operation.id);
      await svc.close();
      svc = await startTestService({ dataDir: svc.dataDir, backend: svc.engine.backend });
      const again = await svc.post("/v1/nodes", { id: "i-5", region: "us-east-1" }).set("Idempotency-Key", "key-5").expect(200);
      expect(again.body.operation.id).to.equal(first.body.operation.id);
    });
  });
});
