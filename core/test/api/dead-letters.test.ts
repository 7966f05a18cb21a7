import type { QueueMessage, WorkMessage } from "@aat/core";
import { describe, expect, it } from "vitest";
import { json, makeApi, type TestApi } from "./harness.js";

const ONE_TOOL_STEP = `
id: demo.count
workflow: automation
title: One queued tool step
steps:
  - id: lookup
    type: tool
    tool: test.count
    with: { label: "{% input.label %}" }
  - id: done
    type: set
    values: { count: "{% steps.lookup.output.count %}" }
`;

/** Starts a run and takes its queued tool step off the queue, as a worker would. */
async function startAndReceive(api: TestApi): Promise<{ runId: string; message: QueueMessage<WorkMessage> }> {
  const started = await json(
    await api.call("POST", "/v1/runs", {
      role: "responder",
      json: { planId: "demo.count", input: { label: "x" } },
    }),
  );
  expect(started.status).toBe(202);
  const [message] = await api.queue.receive();
  expect(message?.body).toMatchObject({ kind: "execute", key: "lookup", attempt: 1 });
  return { runId: String(started.body.runId), message: message! };
}

describe("GET /v1/dead-letters", () => {
  it("lists each letter with its reason, deliveries and the step attempt parsed from a work message", async () => {
    const api = await makeApi({ plans: [ONE_TOOL_STEP] });
    const { runId, message } = await startAndReceive(api);
    await api.queue.deadLetter(message, "storage failed: connection reset");
    // A body that is no work message: the runner itself dead-letters it when a worker receives it.
    await api.queue.publish({ hello: "world" } as unknown as WorkMessage);
    await api.worker.drain();

    const listed = await json(await api.call("GET", "/v1/dead-letters", { role: "responder" }));
    expect(listed.status).toBe(200);
    expect(listed.body.queue).toBe(api.queue.name);
    const items = listed.body.items as Array<Record<string, unknown>>;
    expect(items).toHaveLength(2);
    const step = items.find((item) => item.kind === "execute");
    expect(step).toEqual({
      id: message.id,
      kind: "execute",
      runId,
      stepKey: "lookup",
      stepId: "lookup",
      attempt: 1,
      reason: "storage failed: connection reset",
      deliveryCount: 1,
      deadLetteredAt: api.clock.now(),
      body: message.body,
    });
    const invalid = items.find((item) => item.kind === "unknown");
    expect(invalid).toMatchObject({ body: { hello: "world" }, deliveryCount: 1 });
    expect(invalid?.reason).toMatch(/^invalid work message/);
    expect(invalid).not.toHaveProperty("runId");
  });

  it("pages with limit and refuses a limit out of range", async () => {
    const api = await makeApi({ plans: [ONE_TOOL_STEP] });
    for (let n = 0; n < 3; n++) {
      const { message } = await startAndReceive(api);
      await api.queue.deadLetter(message, `failure ${n}`);
    }
    const page = await json(await api.call("GET", "/v1/dead-letters?limit=2", { role: "admin" }));
    expect((page.body.items as unknown[]).length).toBe(2);
    const refused = await json(await api.call("GET", "/v1/dead-letters?limit=0", { role: "admin" }));
    expect(refused.status).toBe(400);
    expect(refused.type).toContain("application/problem+json");
  });

  it("is for responders and admins only", async () => {
    const api = await makeApi({ plans: [ONE_TOOL_STEP] });
    expect((await api.call("GET", "/v1/dead-letters")).status).toBe(401);
    for (const role of ["viewer", "analyst", "developer"] as const) {
      expect((await api.call("GET", "/v1/dead-letters", { role })).status, role).toBe(403);
      expect((await api.call("POST", "/v1/dead-letters/1/redrive", { role })).status, role).toBe(403);
    }
    for (const role of ["responder", "admin"] as const) {
      expect((await api.call("GET", "/v1/dead-letters", { role })).status, role).toBe(200);
    }
  });

  it("answers 503 naming the queue's failure when the queue does not answer", async () => {
    const api = await makeApi({ plans: [ONE_TOOL_STEP] });
    await api.queue.close();
    const failed = await json(await api.call("GET", "/v1/dead-letters", { role: "responder" }));
    expect(failed.status).toBe(503);
    expect(failed.body.detail).toMatch(
      /could not list the dead letters: the step queue did not answer \(.*closed/,
    );
  });
});

describe("POST /v1/dead-letters/{id}/redrive", () => {
  it("sends the letter back to the queue with a fresh delivery count, and the step then runs", async () => {
    const api = await makeApi({ plans: [ONE_TOOL_STEP] });
    const { runId, message } = await startAndReceive(api);
    await api.queue.deadLetter(message, "storage failed");

    const redriven = await json(
      await api.call("POST", `/v1/dead-letters/${encodeURIComponent(message.id)}/redrive`, {
        role: "responder",
      }),
    );
    expect(redriven).toMatchObject({ status: 202, body: { id: message.id, redriven: true } });
    const listed = await json(await api.call("GET", "/v1/dead-letters", { role: "responder" }));
    expect(listed.body.items).toEqual([]);

    const [again] = await api.queue.receive();
    expect(again).toMatchObject({ id: message.id, body: message.body, deliveryCount: 1 });
    await api.queue.nack(again!);
    await api.worker.drain();
    const run = await json(await api.call("GET", `/v1/runs/${runId}`, { role: "viewer" }));
    expect(run.body.run).toMatchObject({ status: "succeeded", output: { count: 1 } });

    const audit = await api.auditLog.list({ limit: 50 });
    expect(audit.entries.map((entry) => entry.target)).toContain(`dead-letter:${message.id}`);
  });

  it("answers 404 for an id that is not a dead letter", async () => {
    const api = await makeApi({ plans: [ONE_TOOL_STEP] });
    const missing = await json(await api.call("POST", "/v1/dead-letters/nope/redrive", { role: "admin" }));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ id: "nope" });
    expect(missing.body.detail).toMatch(
      /has no dead letter with id "nope"; GET \/v1\/dead-letters lists the ids/,
    );
  });
});
