import { describe, expect, it } from "vitest";
import { json, makeApi, type TestApi } from "./harness.js";

async function runCount(api: TestApi): Promise<number> {
  return (await api.kv.list("run-index/")).entries.length;
}

describe("POST /v1/runs", () => {
  it("starts a plan by id and answers 202 with links and a Location", async () => {
    const api = await makeApi();
    const response = await api.call("POST", "/v1/runs", {
      role: "responder",
      json: { planId: "demo.approve", input: { host: "web-1" } },
    });
    const { status, body } = await json(response);
    expect(status).toBe(202);
    const runId = body.runId as string;
    expect(body).toMatchObject({
      status: "waiting",
      plan: { id: "demo.approve", version: 1 },
      created: true,
      links: {
        self: `/v1/runs/${runId}`,
        events: `/v1/runs/${runId}/events`,
        cancel: `/v1/runs/${runId}/cancel`,
      },
    });
    expect(response.headers.get("location")).toBe(`/v1/runs/${runId}`);
    const state = await api.runner.load(runId);
    expect(state?.steps.ask?.status).toBe("waiting_approval");
  });

  it("lets the planner choose by workflow, event and input", async () => {
    const api = await makeApi();
    const { status, body } = await json(
      await api.call("POST", "/v1/runs", {
        role: "analyst",
        json: { workflow: "alerts", event: "alert.received", input: { ip: "10.0.0.1", severity: "high" } },
      }),
    );
    expect(status).toBe(202);
    expect(body.plan).toEqual({ id: "demo.inputs", version: 1 });
    expect(body.status).toBe("succeeded");
  });

  it("answers 422 with the planner's reason when no plan matches, storing nothing", async () => {
    const api = await makeApi();
    const { status, body, type } = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { workflow: "alerts", event: "alert.received", input: { ip: "10.0.0.1", severity: "low" } },
      }),
    );
    expect(status).toBe(422);
    expect(type).toBe("application/problem+json");
    expect(body.type).toBe("https://aat.dev/problems/no-matching-plan");
    expect(body.detail).toMatch(/no plan matches event "alert.received" in workflow "alerts"/);
    expect(await runCount(api)).toBe(0);
  });

  it("answers 422 naming each invalid field of the body", async () => {
    const api = await makeApi();
    const { status, body } = await json(
      await api.call("POST", "/v1/runs", { role: "responder", json: { input: {}, version: 0, extra: 1 } }),
    );
    expect(status).toBe(422);
    const paths = (body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["version", "extra"]));
  });

  it("requires planId or workflow", async () => {
    const api = await makeApi();
    const { status, body } = await json(await api.call("POST", "/v1/runs", { role: "responder", json: {} }));
    expect(status).toBe(422);
    expect(body.errors).toEqual([
      { path: "planId", message: "give planId (start that plan) or workflow (let the planner choose)" },
    ]);
  });

  it("answers 422 with the input's field paths when the input breaks the plan's schema, storing nothing", async () => {
    const api = await makeApi();
    const { status, body } = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { planId: "demo.inputs", input: { ip: "1.2" }, idempotencyKey: "k-1" },
      }),
    );
    expect(status).toBe(422);
    expect(body.errors).toEqual([{ path: "input.ip", message: expect.stringMatching(/>=7 characters/) }]);
    expect(await runCount(api)).toBe(0);
    expect((await api.kv.list("api/idempotency/")).entries).toEqual([]);
  });

  it("answers 404 for an unknown plan or version", async () => {
    const api = await makeApi();
    const unknown = await json(
      await api.call("POST", "/v1/runs", { role: "responder", json: { planId: "nope" } }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toMatch(/plan "nope" does not exist/);
    const version = await json(
      await api.call("POST", "/v1/runs", { role: "responder", json: { planId: "demo.approve", version: 9 } }),
    );
    expect(version.status).toBe(404);
    expect(version.body.detail).toMatch(/has no version 9/);
  });

  it("answers 401 without credentials and 403 for a role that may not start runs", async () => {
    const api = await makeApi();
    const anonymous = await json(await api.call("POST", "/v1/runs", { json: { planId: "demo.approve" } }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toBe("application/problem+json");
    const viewer = await json(
      await api.call("POST", "/v1/runs", { role: "viewer", json: { planId: "demo.approve" } }),
    );
    expect(viewer.status).toBe(403);
    expect(viewer.body.detail).toMatch(/allows roles responder, analyst, developer, admin/);
    expect(await runCount(api)).toBe(0);
  });

  it("answers 415 for a body that is not JSON and 400 for malformed JSON", async () => {
    const api = await makeApi();
    const text = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        body: "planId=demo.approve",
        headers: { "content-type": "text/plain" },
      }),
    );
    expect(text.status).toBe(415);
    expect(text.body.detail).toMatch(/send application\/json/);
    const malformed = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        body: '{"planId":',
        headers: { "content-type": "application/json" },
      }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.type).toBe("application/problem+json");
  });

  it("returns the same run for the same idempotencyKey, once started", async () => {
    const api = await makeApi();
    const request = { planId: "demo.approve", input: { host: "web-2" }, idempotencyKey: "order-7" };
    const first = await api.call("POST", "/v1/runs", { role: "responder", json: request });
    const second = await api.call("POST", "/v1/runs", { role: "responder", json: request });
    const a = await json(first);
    const b = await json(second);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.runId).toBe(a.body.runId);
    expect(a.body.created).toBe(true);
    expect(b.body.created).toBe(false);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await runCount(api)).toBe(1);
  });

  it("keeps the idempotencyKey when the run was stored but its first step could not be enqueued, so the retry heals that run", async () => {
    const api = await makeApi();
    await api.plans.publish(`
id: demo.one-tool
workflow: automation
title: One tool call
steps:
  - id: lookup
    type: tool
    tool: test.count
    with: { label: "{% input.label %}" }
`);
    const publish = api.queue.publish.bind(api.queue);
    let refuse = true;
    api.queue.publish = async (body, options) => {
      if (refuse) throw new Error("queue unavailable");
      return publish(body, options);
    };
    const request = { planId: "demo.one-tool", input: { label: "x" }, idempotencyKey: "flaky-queue" };
    const first = await api.call("POST", "/v1/runs", { role: "responder", json: request });
    expect(first.status, await first.clone().text()).toBeGreaterThanOrEqual(500);
    expect(await runCount(api)).toBe(1);

    refuse = false;
    const retry = await json(await api.call("POST", "/v1/runs", { role: "responder", json: request }));
    expect(retry.status).toBe(202);
    expect(await runCount(api)).toBe(1);
    await api.worker.drain();
    // The step the failed request never enqueued ran once the retry re-issued it.
    expect((await api.runner.load(retry.body.runId as string))?.status).toBe("succeeded");
  });

  it("gives concurrent requests with one idempotencyKey one run", async () => {
    const api = await makeApi();
    const request = { planId: "demo.approve", input: { host: "web-3" }, idempotencyKey: "burst" };
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => api.call("POST", "/v1/runs", { role: "responder", json: request })),
    );
    const bodies = await Promise.all(responses.map(json));
    expect(new Set(bodies.map((b) => b.body.runId)).size).toBe(1);
    expect(bodies.filter((b) => b.body.created === true)).toHaveLength(1);
    expect(await runCount(api)).toBe(1);
  });

  it("answers 409 when an idempotencyKey is reused for a different request", async () => {
    const api = await makeApi();
    await api.call("POST", "/v1/runs", {
      role: "responder",
      json: { planId: "demo.approve", input: { host: "a" }, idempotencyKey: "k" },
    });
    const { status, body } = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { planId: "demo.approve", input: { host: "b" }, idempotencyKey: "k" },
      }),
    );
    expect(status).toBe(409);
    expect(body.detail).toMatch(/idempotencyKey "k" was used for a different request/);
  });

  it("scopes idempotency keys to the caller", async () => {
    const api = await makeApi();
    const request = { planId: "demo.approve", input: { host: "a" }, idempotencyKey: "shared" };
    const a = await json(await api.call("POST", "/v1/runs", { role: "responder", json: request }));
    const b = await json(await api.call("POST", "/v1/runs", { role: "developer", json: request }));
    expect(a.body.runId).not.toBe(b.body.runId);
  });

  it("records the start in the audit log with the run as target", async () => {
    const api = await makeApi();
    const { body } = await json(
      await api.call("POST", "/v1/runs", { role: "responder", json: { planId: "demo.approve" } }),
    );
    const entries = (await api.auditLog.list({ limit: 10 })).entries;
    expect(entries).toEqual([
      expect.objectContaining({
        action: "POST /v1/runs",
        target: `run:${body.runId}`,
        result: "ok",
        status: 202,
      }),
    ]);
  });
});

describe("GET /v1/runs", () => {
  async function startMany(api: TestApi): Promise<string[]> {
    const ids: string[] = [];
    const starts = [
      { planId: "demo.approve", input: { host: "h" } },
      { planId: "demo.inputs", input: { ip: "10.0.0.1" } },
      { planId: "demo.approve", input: { host: "h" } },
      { planId: "demo.inputs", input: { ip: "10.0.0.2" } },
      { planId: "demo.approve", input: { host: "h" } },
    ];
    for (const start of starts) {
      api.clock.advance(1000);
      const { body } = await json(await api.call("POST", "/v1/runs", { role: "responder", json: start }));
      ids.push(body.runId as string);
    }
    return ids;
  }

  it("lists runs newest first and pages with nextCursor", async () => {
    const api = await makeApi();
    const ids = await startMany(api);
    const first = await json(await api.call("GET", "/v1/runs?limit=2", { role: "viewer" }));
    expect(first.status).toBe(200);
    const items = first.body.items as Array<{ runId: string }>;
    expect(items.map((i) => i.runId)).toEqual([ids[4], ids[3]]);
    const cursor = first.body.nextCursor as string;
    const second = await json(await api.call("GET", `/v1/runs?limit=2&cursor=${cursor}`, { role: "viewer" }));
    expect((second.body.items as Array<{ runId: string }>).map((i) => i.runId)).toEqual([ids[2], ids[1]]);
    const third = await json(
      await api.call("GET", `/v1/runs?limit=2&cursor=${second.body.nextCursor}`, { role: "viewer" }),
    );
    expect((third.body.items as Array<{ runId: string }>).map((i) => i.runId)).toEqual([ids[0]]);
    expect(third.body.nextCursor).toBeUndefined();
  });

  it("filters by plan, workflow, status and start time", async () => {
    const api = await makeApi();
    const ids = await startMany(api);
    const ofPlan = await json(await api.call("GET", "/v1/runs?plan=demo.inputs", { role: "viewer" }));
    expect((ofPlan.body.items as Array<{ runId: string }>).map((i) => i.runId)).toEqual([ids[3], ids[1]]);
    const alerts = await json(await api.call("GET", "/v1/runs?workflow=alerts", { role: "viewer" }));
    expect((alerts.body.items as unknown[]).length).toBe(2);
    const waiting = await json(await api.call("GET", "/v1/runs?status=waiting", { role: "viewer" }));
    expect((waiting.body.items as Array<{ runId: string; status: string }>).map((i) => i.runId)).toEqual([
      ids[4],
      ids[2],
      ids[0],
    ]);
    const start = Date.UTC(2026, 0, 1);
    const window = await json(
      await api.call("GET", `/v1/runs?since=${start + 2000}&until=${new Date(start + 4000).toISOString()}`, {
        role: "viewer",
      }),
    );
    expect((window.body.items as Array<{ runId: string }>).map((i) => i.runId)).toEqual([ids[2], ids[1]]);
  });

  it("answers 400 for bad query parameters and a forged cursor", async () => {
    const api = await makeApi();
    const status = await json(await api.call("GET", "/v1/runs?status=sleeping", { role: "viewer" }));
    expect(status.status).toBe(400);
    expect((status.body.errors as Array<{ path: string }>)[0]?.path).toBe("query.status");
    const cursor = await json(await api.call("GET", "/v1/runs?cursor=bogus", { role: "viewer" }));
    expect(cursor.status).toBe(400);
    expect(cursor.body.detail).toMatch(/cursor is not one this server issued/);
    const since = await json(await api.call("GET", "/v1/runs?since=yesterday", { role: "viewer" }));
    expect(since.status).toBe(400);
  });

  it("answers 401 without credentials", async () => {
    const api = await makeApi();
    expect((await api.call("GET", "/v1/runs")).status).toBe(401);
  });
});

describe("GET /v1/runs/:id", () => {
  it("returns the state, steps and a page of the event log", async () => {
    const api = await makeApi();
    const { body: started } = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { planId: "demo.inputs", input: { ip: "10.1.1.1" } },
      }),
    );
    const { status, body } = await json(
      await api.call("GET", `/v1/runs/${started.runId}?eventsLimit=1`, { role: "viewer" }),
    );
    expect(status).toBe(200);
    const run = body.run as { status: string; steps: Record<string, { output: unknown }>; version: number };
    expect(run.status).toBe("succeeded");
    expect(run.steps.echo?.output).toEqual({ ip: "10.1.1.1" });
    const events = body.events as {
      items: Array<{ seq: number; event: { type: string } }>;
      nextAfter?: number;
    };
    expect(events.items.map((e) => e.seq)).toEqual([1]);
    expect(events.items[0]?.event.type).toBe("run.started");
    expect(events.nextAfter).toBe(1);
    const rest = await json(
      await api.call("GET", `/v1/runs/${started.runId}?eventsAfter=1&eventsLimit=100`, { role: "viewer" }),
    );
    const restEvents = rest.body.events as { items: Array<{ seq: number }>; nextAfter?: number };
    expect(run.version).toBeGreaterThan(1);
    expect(restEvents.items.map((e) => e.seq)).toEqual(
      Array.from({ length: run.version - 1 }, (_, i) => i + 2),
    );
    expect(restEvents.nextAfter).toBeUndefined();
  });

  it("answers 404 for an unknown run and 401 without credentials", async () => {
    const api = await makeApi();
    const missing = await json(await api.call("GET", "/v1/runs/nope", { role: "viewer" }));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      type: "https://aat.dev/problems/not-found",
      status: 404,
      runId: "nope",
    });
    expect((await api.call("GET", "/v1/runs/nope")).status).toBe(401);
  });
});

describe("POST /v1/runs/:id/cancel", () => {
  it("cancels a waiting run, then answers 409 with its status", async () => {
    const api = await makeApi();
    const { body: started } = await json(
      await api.call("POST", "/v1/runs", { role: "responder", json: { planId: "demo.approve" } }),
    );
    const cancelled = await json(
      await api.call("POST", `/v1/runs/${started.runId}/cancel`, {
        role: "developer",
        json: { reason: "test" },
      }),
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const again = await json(
      await api.call("POST", `/v1/runs/${started.runId}/cancel`, { role: "responder" }),
    );
    expect(again.status).toBe(409);
    expect(again.body.currentStatus).toBe("cancelled");
  });

  it("answers 404, 403, 401 and 422 as it should", async () => {
    const api = await makeApi();
    const { body: started } = await json(
      await api.call("POST", "/v1/runs", { role: "responder", json: { planId: "demo.approve" } }),
    );
    expect((await api.call("POST", "/v1/runs/nope/cancel", { role: "responder" })).status).toBe(404);
    expect((await api.call("POST", `/v1/runs/${started.runId}/cancel`, { role: "analyst" })).status).toBe(
      403,
    );
    expect((await api.call("POST", `/v1/runs/${started.runId}/cancel`)).status).toBe(401);
    const invalid = await json(
      await api.call("POST", `/v1/runs/${started.runId}/cancel`, { role: "responder", json: { reason: 5 } }),
    );
    expect(invalid.status).toBe(422);
    expect((invalid.body.errors as Array<{ path: string }>)[0]?.path).toBe("reason");
    expect((await api.runner.load(started.runId as string))?.status).toBe("waiting");
  });
});

describe("cross-cutting behaviour", () => {
  it("echoes a given X-Request-Id and makes one when none is given", async () => {
    const api = await makeApi();
    const given = await api.call("GET", "/v1/runs", {
      role: "viewer",
      headers: { "x-request-id": "req-42" },
    });
    expect(given.headers.get("x-request-id")).toBe("req-42");
    const made = await api.call("GET", "/v1/runs", { role: "viewer" });
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await json(
      await api.call("GET", "/v1/runs/nope", { role: "viewer", headers: { "x-request-id": "r-9" } }),
    );
    expect(problem.body.requestId).toBe("r-9");
  });

  it("answers unknown routes with a 404 problem", async () => {
    const api = await makeApi();
    const { status, type, body } = await json(await api.call("GET", "/v1/nothing-here", { role: "viewer" }));
    expect(status).toBe(404);
    expect(type).toBe("application/problem+json");
    expect(body.detail).toMatch(/no route GET \/v1\/nothing-here/);
    expect((await api.call("GET", "/elsewhere")).status).toBe(404);
  });

  it("answers 413 for a body over the configured limit", async () => {
    const api = await makeApi({ config: { server: { bodyLimitBytes: 256 } } });
    const { status, body, type } = await json(
      await api.call("POST", "/v1/runs", {
        role: "responder",
        json: { planId: "demo.approve", input: { host: "x".repeat(1000) } },
      }),
    );
    expect(status).toBe(413);
    expect(type).toBe("application/problem+json");
    expect(body.detail).toMatch(/larger than 256 bytes/);
    expect(await runCount(api)).toBe(0);
  });

  it("turns an unexpected error into a 500 with a request id, logging it and leaking nothing", async () => {
    const api = await makeApi();
    api.runner.load = async () => {
      throw new Error("disk on fire at /var/secret/path");
    };
    const response = await api.call("GET", "/v1/runs/r-1", {
      role: "viewer",
      headers: { "x-request-id": "boom-1" },
    });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).not.toMatch(/disk on fire|secret|at .*\.ts/);
    expect(JSON.parse(text)).toMatchObject({ status: 500, requestId: "boom-1" });
    expect(api.logged).toEqual([
      expect.objectContaining({ level: "error", fields: expect.objectContaining({ requestId: "boom-1" }) }),
    ]);
    expect(JSON.stringify(api.logged[0]?.fields)).toMatch(/disk on fire/);
  });
});
