import { createRunner } from "@aat/core";
import { describe, expect, it } from "vitest";
import { json, makeApi, type TestApi } from "./harness.js";

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

type SseBlock = SseMessage | { comment: string };

/** Reads server-sent events as they arrive: `next()` gives messages, `nextBlock()` comments too. */
function sseReader(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  async function nextBlock(): Promise<SseBlock | undefined> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(":")) return { comment: block };
        const message: SseMessage = { data: "" };
        for (const line of block.split("\n")) {
          const colon = line.indexOf(":");
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, "");
          if (field === "id") message.id = value;
          else if (field === "event") message.event = value;
          else if (field === "data") message.data += value;
        }
        return message;
      }
      const { done, value } = await reader.read();
      if (done) return undefined;
      buffer += value;
    }
  }
  async function next(): Promise<SseMessage | undefined> {
    for (let block = await nextBlock(); block; block = await nextBlock()) {
      if (!("comment" in block)) return block;
    }
    return undefined;
  }
  async function rest(): Promise<SseMessage[]> {
    const out: SseMessage[] = [];
    for (let m = await next(); m; m = await next()) out.push(m);
    return out;
  }
  return { next, nextBlock, rest, cancel: () => reader.cancel() };
}

async function startApproval(api: TestApi): Promise<string> {
  const { body } = await json(
    await api.call("POST", "/v1/runs", {
      role: "responder",
      json: { planId: "demo.approve", input: { host: "h" } },
    }),
  );
  return body.runId as string;
}

describe("GET /v1/runs/:id/events", () => {
  it("streams a finished run's log with seq ids and event types, then ends", async () => {
    const api = await makeApi();
    const { body } = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { planId: "demo.inputs", input: { ip: "10.0.0.9" } },
      }),
    );
    const response = await api.call("GET", `/v1/runs/${body.runId}/events`, { role: "viewer" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const messages = await sseReader(response).rest();
    const state = await api.runner.load(body.runId as string);
    const log = await api.runner.store.listLog(body.runId as string, 0, 100);
    expect(messages.slice(0, -1)).toEqual(
      log.map(({ seq, event }) => ({ id: String(seq), event: event.type, data: JSON.stringify(event) })),
    );
    expect(messages.at(-1)).toEqual({
      event: "end",
      data: JSON.stringify({ runId: body.runId, status: "succeeded", version: state?.version }),
    });
  });

  it("resumes after Last-Event-ID (and ?after=)", async () => {
    const api = await makeApi();
    const runId = await startApproval(api);
    await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, { role: "responder" });
    const all = await sseReader(await api.call("GET", `/v1/runs/${runId}/events`, { role: "viewer" })).rest();
    expect(all.length).toBeGreaterThan(4);
    const resumed = await sseReader(
      await api.call("GET", `/v1/runs/${runId}/events`, {
        role: "viewer",
        headers: { "last-event-id": "2" },
      }),
    ).rest();
    expect(resumed).toEqual(all.slice(2));
    const viaQuery = await sseReader(
      await api.call("GET", `/v1/runs/${runId}/events?after=3`, { role: "viewer" }),
    ).rest();
    expect(viaQuery).toEqual(all.slice(3));
    const lastId = all.at(-2)?.id;
    const atEnd = await sseReader(
      await api.call("GET", `/v1/runs/${runId}/events`, {
        role: "viewer",
        headers: { "last-event-id": lastId! },
      }),
    ).rest();
    expect(atEnd).toEqual([all.at(-1)]);
  });

  it("delivers events live as the run moves on, and ends after its final event", async () => {
    // A poll this slow never fires within the test: only the hub can wake the stream.
    const api = await makeApi({ sse: { pollMs: 600_000, heartbeatMs: 600_000 } });
    const runId = await startApproval(api);
    const stream = sseReader(await api.call("GET", `/v1/runs/${runId}/events`, { role: "viewer" }));
    const seen: SseMessage[] = [];
    for (;;) {
      const message = await stream.next();
      seen.push(message!);
      if (message?.event === "step.suspended") break;
    }
    expect(api.events.watchedRuns).toBe(1);
    await api.call("POST", `/v1/runs/${runId}/steps/ask/approve`, {
      role: "responder",
      json: { rationale: "ok" },
    });
    const after = await stream.rest();
    expect(after.map((m) => m.event)).toContain("approval.granted");
    expect(after.at(-1)?.event).toBe("end");
    expect(JSON.parse(after.at(-1)!.data).status).toBe("succeeded");
    const ids = [...seen, ...after].filter((m) => m.id !== undefined).map((m) => Number(m.id));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(api.events.watchedRuns).toBe(0);
  });

  it("picks up events appended by another process through its poll", async () => {
    const api = await makeApi();
    const runId = await startApproval(api);
    const stream = sseReader(await api.call("GET", `/v1/runs/${runId}/events`, { role: "viewer" }));
    for (let m = await stream.next(); m?.event !== "step.suspended"; m = await stream.next()) {
      expect(m).toBeDefined();
    }
    // A second runner on the same store, without the hub: like a worker in another process.
    const other = createRunner({ kv: api.kv, queue: api.queue, plans: api.plans, clock: api.clock });
    await other.approve(runId, "ask", "someone-else");
    const after = await stream.rest();
    expect(after.map((m) => m.event)).toContain("approval.granted");
    expect(after.at(-1)?.event).toBe("end");
  });

  it("sends keep-alive comments while nothing happens and stops when the client goes away", async () => {
    const api = await makeApi({ sse: { pollMs: 10, heartbeatMs: 30 } });
    const runId = await startApproval(api);
    const stream = sseReader(await api.call("GET", `/v1/runs/${runId}/events`, { role: "viewer" }));
    let block = await stream.nextBlock();
    while (block && !("comment" in block)) block = await stream.nextBlock();
    expect(block).toEqual({ comment: ": keep-alive" });
    expect(api.events.watchedRuns).toBe(1);
    await stream.cancel();
    for (let i = 0; i < 100 && api.events.watchedRuns > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(api.events.watchedRuns).toBe(0);
  });

  it("ends a stream that fails on the server with an error event carrying only the request id", async () => {
    const api = await makeApi();
    const runId = await startApproval(api);
    const listLog = api.runner.store.listLog.bind(api.runner.store);
    let calls = 0;
    api.runner.store.listLog = async (...args) => {
      calls++;
      if (calls > 1) throw new Error("storage exploded at 10.0.0.5");
      return listLog(...args);
    };
    const response = await api.call("GET", `/v1/runs/${runId}/events`, {
      role: "viewer",
      headers: { "x-request-id": "sse-1" },
    });
    const messages = await sseReader(response).rest();
    const last = messages.at(-1)!;
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data)).toEqual({ requestId: "sse-1", detail: expect.stringMatching(/reconnect/) });
    expect(last.data).not.toMatch(/exploded/);
    expect(api.logged).toEqual([
      expect.objectContaining({
        message: "run event stream failed",
        fields: expect.objectContaining({ requestId: "sse-1" }),
      }),
    ]);
  });

  it("answers 404 for an unknown run, 400 for a bad Last-Event-ID and 401 without credentials", async () => {
    const api = await makeApi();
    const missing = await json(await api.call("GET", "/v1/runs/nope/events", { role: "viewer" }));
    expect(missing.status).toBe(404);
    const runId = await startApproval(api);
    const bad = await json(
      await api.call("GET", `/v1/runs/${runId}/events`, {
        role: "viewer",
        headers: { "last-event-id": "abc" },
      }),
    );
    expect(bad.status).toBe(400);
    expect((bad.body.errors as Array<{ path: string }>)[0]?.path).toBe("headers.last-event-id");
    expect((await api.call("GET", `/v1/runs/${runId}/events`)).status).toBe(401);
  });
});
