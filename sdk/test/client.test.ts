import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AatApiError,
  AatNetworkError,
  createAatClient,
  paginate,
  type ReconnectInfo,
  type RunStreamItem,
  take,
  unwrap,
} from "../src/index.js";
import { startTestRuntime, type TestRuntime } from "./support.js";

let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.stop();
});

const client = () => createAatClient({ baseUrl: runtime.url, bearerToken: runtime.adminKey });

async function collect(items: AsyncIterable<RunStreamItem>): Promise<RunStreamItem[]> {
  const out: RunStreamItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("@aat/sdk against the node runtime", () => {
  it("starts a run with typed calls and follows its events to the end", async () => {
    const aat = client();
    const started = await unwrap(
      aat.api.POST("/v1/runs", { body: { planId: "sdk.wait", input: { name: "Ada" } } }),
    );
    expect(started.plan).toEqual({ id: "sdk.wait", version: 1 });

    const items = await collect(aat.runEvents(started.runId));
    const last = items.at(-1);
    expect(last).toEqual({
      kind: "end",
      runId: started.runId,
      status: "succeeded",
      version: expect.any(Number),
    });
    const events = items.filter((item) => item.kind === "event");
    expect(events.map((item) => item.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events[0]?.kind === "event" && events[0].event.type).toBe("run.started");

    const detail = await unwrap(
      aat.api.GET("/v1/runs/{id}", { params: { path: { id: started.runId }, query: {} } }),
    );
    expect(detail.run.output).toEqual({ text: "Hello, Ada" });
  });

  it("authenticates with X-API-Key as well as a bearer token", async () => {
    const aat = createAatClient({ baseUrl: runtime.url, apiKey: runtime.adminKey });
    const plans = await unwrap(aat.api.GET("/v1/plans"));
    expect(plans.items.map((plan) => plan.id)).toContain("sdk.wait");
  });

  it("throws problem+json answers as AatApiError with status, title, detail and field paths", async () => {
    const refused = await createAatClient({ baseUrl: runtime.url })
      .api.GET("/v1/plans")
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AatApiError);
    expect((refused as AatApiError).status).toBe(401);

    const invalid = await client()
      .api.POST("/v1/runs", { body: { planId: "sdk.wait", input: { name: 42 } } })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(AatApiError);
    const problem = invalid as AatApiError;
    expect(problem.status).toBe(422);
    expect(problem.title).toBe("Unprocessable content");
    expect(problem.detail).toContain("sdk.wait");
    expect(problem.errors.map((error) => error.path)).toContain("input.name");
    expect(problem.url).toBe(`${runtime.url}/v1/runs`);
    expect(problem.requestId).toEqual(expect.any(String));
  });

  it("names the URL when the server cannot be reached", async () => {
    const port = await closedPort();
    const error = await createAatClient({ baseUrl: `http://127.0.0.1:${port}`, bearerToken: "x" })
      .api.GET("/v1/plans")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AatNetworkError);
    expect((error as AatNetworkError).message).toContain(
      `GET http://127.0.0.1:${port}/v1/plans failed: ECONNREFUSED`,
    );
  });

  it("walks every page of a cursor-paged listing", async () => {
    const aat = client();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await unwrap(aat.api.POST("/v1/runs", { body: { planId: "sdk.approve" } }));
      ids.push(run.runId);
    }
    const seen: string[] = [];
    let requests = 0;
    for await (const run of paginate((cursor) => {
      requests++;
      return aat.api.GET("/v1/runs", {
        params: { query: { plan: "sdk.approve", limit: 1, ...(cursor ? { cursor } : {}) } },
      });
    })) {
      seen.push(run.runId);
    }
    expect(seen.toSorted()).toEqual(ids.toSorted());
    expect(requests).toBeGreaterThanOrEqual(3);

    const firstTwo = await take(
      paginate((cursor) =>
        aat.api.GET("/v1/runs", {
          params: { query: { plan: "sdk.approve", limit: 1, ...(cursor ? { cursor } : {}) } },
        }),
      ),
      2,
    );
    expect(firstTwo).toHaveLength(2);
  });

  it("reconnects a dropped event stream with Last-Event-ID: no event lost or repeated", async () => {
    let cut = false;
    const cuttingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (cut || !url.endsWith("/events") || !response.body) return response;
      cut = true;
      // Pass the first chunk through, then fail the body as a dropped connection does.
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          controller.enqueue(value);
          controller.error(new TypeError("terminated"));
          await reader.cancel();
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const aat = createAatClient({ baseUrl: runtime.url, bearerToken: runtime.adminKey, fetch: cuttingFetch });
    const started = await unwrap(
      aat.api.POST("/v1/runs", { body: { planId: "sdk.wait", input: { name: "Bo" } } }),
    );
    const reconnects: Array<ReconnectInfo & { seenBefore: number }> = [];
    const items: RunStreamItem[] = [];
    const onReconnect = (info: ReconnectInfo) => reconnects.push({ ...info, seenBefore: items.length });
    for await (const item of aat.runEvents(started.runId, { onReconnect, initialDelayMs: 10 }))
      items.push(item);
    expect(cut).toBe(true);
    expect(reconnects).toHaveLength(1);
    const events = items.filter((item) => item.kind === "event");
    const before = reconnects[0]?.seenBefore ?? 0;
    expect(before).toBeGreaterThan(0);
    expect(reconnects[0]?.lastEventId).toBe(String(before));
    expect(items.length).toBeGreaterThan(before);
    expect(events.map((item) => item.seq)).toEqual(events.map((_, index) => index + 1));
    expect(items.at(-1)).toMatchObject({ kind: "end", status: "succeeded" });
  });

  it("resumes after a given seq and streams approval decisions", async () => {
    const aat = client();
    const started = await unwrap(aat.api.POST("/v1/runs", { body: { planId: "sdk.approve" } }));
    const seen: RunStreamItem[] = [];
    const following = (async () => {
      for await (const item of aat.runEvents(started.runId)) {
        seen.push(item);
        if (item.kind === "event" && item.event.type === "step.suspended") {
          await unwrap(
            aat.api.POST("/v1/runs/{id}/steps/{stepId}/approve", {
              params: { path: { id: started.runId, stepId: "confirm" } },
              body: { rationale: "fine" },
            }),
          );
        }
      }
    })();
    await following;
    expect(seen.at(-1)).toMatchObject({ kind: "end", status: "succeeded" });
    const types = seen.flatMap((item) => (item.kind === "event" ? [item.event.type] : []));
    expect(types).toContain("approval.granted");

    const resumed = await collect(aat.runEvents(started.runId, { after: 2 }));
    const resumedEvents = resumed.filter((item) => item.kind === "event");
    expect(resumedEvents[0]?.kind === "event" && resumedEvents[0].seq).toBe(3);
    expect(resumedEvents).toHaveLength(types.length - 2);
  });
});

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
