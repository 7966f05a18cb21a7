import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MemoryQueue } from "@aat/adapter-memory";
import type { Queue, QueueMessage, WorkMessage } from "@aat/core";
import { offlineVerdictPlan } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { CloudEvent, HTTP } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLOUDEVENTS_STEPS_PATH,
  CloudEventSettlementQueue,
  createCloudEventsReceiver,
  STEP_EVENT_TYPE,
} from "../src/cloudevents.js";
import { capturingLogger, tempDir, testConfig } from "./support.js";

/** A set step, then an agent step on the offline model: both go through the step queue. */
const OFFLINE_PLAN = offlineVerdictPlan("test.knative-offline", "Offline verdict on Knative");

/**
 * Knative Eventing pushes step messages to a Knative Service as CloudEvents. The runtime runs as role
 * "api" (no pull worker), and the test plays the broker: it takes each step message off the queue and
 * POSTs it as a CloudEvent, alternating binary and structured mode, acking what was answered 2xx.
 */
describe("CloudEvents receiver (Knative Eventing push) on the node runtime", () => {
  let runtime: NodeRuntime;
  let dataDir: string;
  let url: string;
  /** The step queue itself (the broker's side: what Knative's source would read). */
  let queue: Queue<WorkMessage>;

  beforeAll(async () => {
    dataDir = await tempDir("cloudevents");
    await mkdir(join(dataDir, "plans"));
    await writeFile(join(dataDir, "plans", "offline.yaml"), OFFLINE_PLAN);
    runtime = await startNodeRuntime({
      config: testConfig({
        dataDir,
        plans: [join(dataDir, "plans")],
        auth: { mode: "none", allowNone: true },
        // Knative Service with visibility cluster-local: the route needs no token.
        server: { cloudEventsClusterLocal: true },
      }),
      role: "api",
      logger: capturingLogger().logger,
      print: () => undefined,
      siteDir: join(dataDir, "no-site-here"),
      decorateStores: (stores) => {
        queue = stores.queue;
        return stores;
      },
    });
    url = `${runtime.url}${CLOUDEVENTS_STEPS_PATH}`;
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const toEvent = (message: QueueMessage<WorkMessage>) =>
    new CloudEvent({
      id: message.id,
      source: "/apis/v1/namespaces/aat/brokers/default",
      type: STEP_EVENT_TYPE,
      datacontenttype: "application/json",
      data: message.body,
      ...(message.dedupeId ? { aatdedupeid: message.dedupeId } : {}),
      ...(message.attributes.traceparent ? { traceparent: message.attributes.traceparent } : {}),
    });

  const post = (message: { headers: Record<string, unknown>; body: unknown }) =>
    fetch(url, {
      method: "POST",
      headers: message.headers as Record<string, string>,
      body: message.body as string,
    });

  it("finishes a run from step messages delivered in binary and structured mode", async () => {
    const started = await fetch(`${runtime.url}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ planId: "test.knative-offline", input: { score: 92 } }),
    });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const modes: string[] = [];
    let status = "";
    for (let round = 0; round < 100 && !["succeeded", "failed"].includes(status); round++) {
      for (const message of await queue.receive({ maxMessages: 10, waitMs: 50 })) {
        // Each message in binary mode, then again in structured mode: Knative delivers at least once, and
        // the second delivery of a step already done is answered 200 without running it twice.
        for (const binary of [true, false]) {
          const sent = binary ? HTTP.binary(toEvent(message)) : HTTP.structured(toEvent(message));
          if (binary) expect(sent.headers["ce-type"]).toBe(STEP_EVENT_TYPE);
          else expect(String(sent.headers["content-type"])).toContain("application/cloudevents+json");
          const answer = await post(sent);
          const text = await answer.text();
          expect(answer.status, text).toBe(200);
          modes.push(
            `${binary ? "binary" : "structured"}:${(JSON.parse(text) as { outcome: string }).outcome}`,
          );
        }
        await queue.ack(message);
      }
      const view = (await (await fetch(`${runtime.url}/v1/runs/${runId}`)).json()) as {
        run: { status: string };
      };
      status = view.run.status;
    }
    expect(status).toBe("succeeded");
    expect(modes).toContain("binary:executed");
    expect(modes.filter((mode) => mode.startsWith("binary:")).length).toBeGreaterThan(0);
    // The redelivery never executes the step again.
    expect(
      modes.filter((mode) => mode.startsWith("structured:")).every((mode) => mode !== "structured:executed"),
    ).toBe(true);
  });

  it("answers 422 with the Runner's reason when it dead-letters the step message", async () => {
    const event = new CloudEvent({
      id: "bogus-1",
      source: "/test",
      type: STEP_EVENT_TYPE,
      datacontenttype: "application/json",
      data: { kind: "bogus" },
    });
    const answer = await post(HTTP.binary(event));
    expect(answer.status).toBe(422);
    expect(((await answer.json()) as { reason: string }).reason).toMatch(/invalid work message/);
  });

  it("refuses bad events with 400 and a reason", async () => {
    const reasonOf = async (init: RequestInit) => {
      const answer = await fetch(url, { method: "POST", ...init });
      expect(answer.status).toBe(400);
      return ((await answer.json()) as { reason: string }).reason;
    };
    // Plain JSON without ce-* headers: not a CloudEvent at all.
    expect(
      await reasonOf({
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "execute" }),
      }),
    ).toMatch(/not a valid CloudEvent|no cloud event/i);
    // Structured mode without specversion.
    expect(
      await reasonOf({
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ id: "x", source: "/s", type: STEP_EVENT_TYPE }),
      }),
    ).not.toBe("");
    // Binary mode, another event type.
    const other = HTTP.binary(
      new CloudEvent({
        id: "x",
        source: "/s",
        type: "com.example.other",
        datacontenttype: "application/json",
        data: {},
      }),
    );
    expect(
      await reasonOf({ headers: other.headers as Record<string, string>, body: other.body as string }),
    ).toMatch(/type must be dev\.aat\.step/);
    // Binary mode, data that is not a JSON object.
    const text = HTTP.binary(
      new CloudEvent({
        id: "x",
        source: "/s",
        type: STEP_EVENT_TYPE,
        datacontenttype: "text/plain",
        data: "hello",
      }),
    );
    expect(
      await reasonOf({ headers: text.headers as Record<string, string>, body: text.body as string }),
    ).toMatch(/data must be the step message as a JSON object/);
    // A batch.
    expect(
      await reasonOf({
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: JSON.stringify([
          { specversion: "1.0", id: "x", source: "/s", type: STEP_EVENT_TYPE, data: {} },
        ]),
      }),
    ).toMatch(/batch/i);
  });
});

describe("CloudEvents receiver authentication (server.cloudEventsToken, server.cloudEventsClusterLocal)", () => {
  const TOKEN = "knative-shared-token-0123456789";
  let runtime: NodeRuntime;
  let dataDir: string;
  let queue: Queue<WorkMessage>;

  beforeAll(async () => {
    dataDir = await tempDir("cloudevents-auth");
    await mkdir(join(dataDir, "plans"));
    await writeFile(join(dataDir, "plans", "offline.yaml"), OFFLINE_PLAN);
    runtime = await startNodeRuntime({
      config: testConfig({
        dataDir,
        plans: [join(dataDir, "plans")],
        auth: { mode: "none", allowNone: true },
        server: { cloudEventsToken: TOKEN },
      }),
      role: "api",
      logger: capturingLogger().logger,
      print: () => undefined,
      siteDir: join(dataDir, "no-site-here"),
      decorateStores: (stores) => {
        queue = stores.queue;
        return stores;
      },
    });
  });

  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers 401 without the token or with another one, and handles the step message with it", async () => {
    const started = await fetch(`${runtime.url}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ planId: "test.knative-offline", input: { score: 92 } }),
    });
    expect(started.status).toBe(202);
    const [message] = await queue.receive({ maxMessages: 1, waitMs: 2_000 });
    expect(message).toBeDefined();
    const sent = HTTP.binary(
      new CloudEvent({
        id: message!.id,
        source: "/apis/v1/namespaces/aat/brokers/default",
        type: STEP_EVENT_TYPE,
        datacontenttype: "application/json",
        data: message!.body,
      }),
    );
    const post = (authorization?: string) =>
      fetch(`${runtime.url}${CLOUDEVENTS_STEPS_PATH}`, {
        method: "POST",
        headers: {
          ...(sent.headers as Record<string, string>),
          ...(authorization ? { authorization } : {}),
        },
        body: sent.body as string,
      });
    const without = await post();
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await without.json()) as { reason: string }).reason).toMatch(/Authorization: Bearer/);
    const wrong = await post("Bearer not-the-shared-token-at-all");
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { reason: string }).reason).toMatch(/not server\.cloudEventsToken/);
    const right = await post(`Bearer ${TOKEN}`);
    const text = await right.text();
    expect(right.status, text).toBe(200);
    expect((JSON.parse(text) as { outcome: string }).outcome).toBe("executed");
    await queue.ack(message!);
  });

  it("answers 401 naming both settings when neither a token nor cluster-local is configured", async () => {
    const handled: string[] = [];
    const receiver = createCloudEventsReceiver({
      runner: {
        handle: async (message) => {
          handled.push(message.id);
          return "executed";
        },
        heartbeat: async () => true,
      },
      settlement: new CloudEventSettlementQueue(new MemoryQueue<WorkMessage>({ name: "ce-auth-unit" })),
      auth: {},
    });
    const sent = HTTP.binary(
      new CloudEvent({
        id: "m-1",
        source: "/s",
        type: STEP_EVENT_TYPE,
        datacontenttype: "application/json",
        data: { kind: "timer", runId: "r", timerId: "t" },
      }),
    );
    const answer = await receiver.request(CLOUDEVENTS_STEPS_PATH, {
      method: "POST",
      headers: sent.headers as Record<string, string>,
      body: sent.body as string,
    });
    expect(answer.status).toBe(401);
    const { reason } = (await answer.json()) as { reason: string };
    expect(reason).toMatch(/AAT_SERVER_CLOUDEVENTS_TOKEN/);
    expect(reason).toMatch(/AAT_SERVER_CLOUDEVENTS_CLUSTER_LOCAL/);
    expect(handled).toEqual([]);
  });
});
