import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { DecodedPush } from "@aat/adapter-pubsub";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerHttpFunction, registerPubSubPushFunction } from "../src/index.js";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8"));

const app = new Hono();
app.get("/v1/health", (c) => c.json({ ok: true, query: c.req.query("q") ?? null }));
app.post("/v1/echo", async (c) => c.json({ got: await c.req.json() }, 201, { "x-aat": "yes" }));
registerHttpFunction("api", app);

const handled: Array<DecodedPush<unknown>> = [];
const malformed: string[] = [];
let failNext = false;
registerPubSubPushFunction("steps", {
  async handle(delivery) {
    if (failNext) {
      failNext = false;
      throw new Error("the step failed");
    }
    handled.push(delivery);
  },
  onMalformed: (error) => malformed.push(error.message),
  clock: () => Date.parse("2021-02-26T19:20:00Z"),
});

async function serve(name: string) {
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("http function", () => {
  let api: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    api = await serve("api");
  });
  afterAll(() => api.close());

  it("hands requests to the Hono app and writes its response back unchanged", async () => {
    const health = await fetch(`${api.url}/v1/health?q=1`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, query: "1" });
    const echo = await fetch(`${api.url}/v1/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ plan: "x", n: [1, 2] }),
    });
    expect(echo.status).toBe(201);
    expect(echo.headers.get("x-aat")).toBe("yes");
    expect(await echo.json()).toEqual({ got: { plan: "x", n: [1, 2] } });
    expect((await fetch(`${api.url}/nowhere`)).status).toBe(404);
  });
});

describe("CloudEvent function for Pub/Sub push", () => {
  let steps: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    steps = await serve("steps");
  });
  afterAll(() => steps.close());

  const post = (event: unknown) =>
    fetch(steps.url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(event),
    });

  it("decodes the documented messagePublished event (structured mode) and acks with 2xx", async () => {
    const response = await post(fixture("message-published-step.json"));
    expect(response.status).toBeLessThan(300);
    expect(handled.at(-1)?.message).toMatchObject({
      id: "2070443601311541",
      body: { kind: "execute", runId: "run-1", stepId: "fetch" },
      dedupeId: "run-1/fetch/1",
      deliveryCount: 3,
    });
    expect(handled.at(-1)?.orderingKey).toBe("run-1");
  });

  it("takes the raw body a push subscription POSTs straight to the function (the framework converts it)", async () => {
    const step = { kind: "execute", runId: "run-2", stepId: "fetch" };
    const response = await fetch(`${steps.url}/projects/demo/topics/aat-steps`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        message: {
          data: Buffer.from(JSON.stringify(step)).toString("base64"),
          attributes: { "aat-dedupe-id": "run-2/fetch/1" },
          messageId: "9000000000000001",
          publishTime: "2021-02-26T19:13:55.749Z",
        },
        subscription: "projects/demo/subscriptions/aat-steps-push",
        deliveryAttempt: 2,
      }),
    });
    expect(response.status).toBeLessThan(300);
    expect(malformed.at(-1) ?? "").not.toMatch(/9000000000000001|subscription/);
    expect(handled.at(-1)?.message).toMatchObject({
      id: "9000000000000001",
      body: step,
      dedupeId: "run-2/fetch/1",
    });
  });

  it("acknowledges a malformed event without calling the handler, and reports it", async () => {
    const before = handled.length;
    const response = await post({ ...fixture("message-published-step.json"), data: { message: {} } });
    expect(response.status).toBeLessThan(300);
    expect(handled.length).toBe(before);
    expect(malformed.at(-1)).toMatch(/not a Pub\/Sub .*messageId is missing/);
  });

  it("answers with an error when the handler fails or the message is not due, so Pub/Sub retries", async () => {
    failNext = true;
    expect((await post(fixture("message-published-step.json"))).status).toBeGreaterThanOrEqual(500);
    const event = fixture("message-published-step.json") as {
      data: { message: { attributes: Record<string, string> } };
    };
    event.data.message.attributes["aat-not-before"] = String(Date.parse("2021-02-26T19:30:00Z"));
    const before = handled.length;
    expect((await post(event)).status).toBeGreaterThanOrEqual(500);
    expect(handled.length).toBe(before);
  });
});
