import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MESSAGE_PUBLISHED, PubSubQueue } from "@aat/adapter-pubsub";
import { loadConfig, type QueueMessage, runKeys, type WorkMessage } from "@aat/core";
import { offlineVerdictPlan, pubsubEmulatorHost } from "@aat/core/testing";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { PubSub, v1 } from "@google-cloud/pubsub";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcpLogger, createGcpRuntime, type GcpRuntime, registerGcpFunctions } from "../src/index.js";

const host = pubsubEmulatorHost();
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const projectId = "aat-gcp-e2e";
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const topic = `aat-gcp-e2e-${suffix}`;
const keyPrefix = `aat-gcp-e2e-${suffix}:`;
const subscription = `projects/${projectId}/subscriptions/${topic}-work`;

const ADMIN_KEY = `aat_gcp-e2e_${"k".repeat(40)}`;
const auth = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };

const OFFLINE_PLAN = offlineVerdictPlan("test.gcp-offline", "Offline verdict on Cloud Run functions");

async function serve(name: string) {
  const server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("GCP end to end on the Pub/Sub emulator: http function starts a run, push CloudEvents finish it", () => {
  let plansDir: string;
  let runtime: GcpRuntime;
  let api: Awaited<ReturnType<typeof serve>>;
  let steps: Awaited<ReturnType<typeof serve>>;
  let schedules: Awaited<ReturnType<typeof serve>>;
  let subscriber: v1.SubscriberClient;
  const logs: string[] = [];
  /** What Pub/Sub counts per message with a dead-letter policy: the attempt number push reports. */
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    plansDir = mkdtempSync(join(tmpdir(), "aat-gcp-plans-"));
    writeFileSync(join(plansDir, "offline.yaml"), OFFLINE_PLAN);
    // Configuration exactly as a function instance gets it: environment variables through core's loader.
    const { config } = loadConfig({
      env: {
        AAT_KV_KIND: "redis",
        AAT_REDIS_URL: redisUrl,
        AAT_REDIS_KEY_PREFIX: keyPrefix,
        AAT_QUEUE_KIND: "pubsub",
        AAT_PUBSUB_PROJECT_ID: projectId,
        AAT_PUBSUB_TOPIC: topic,
        AAT_PUBSUB_EMULATOR_HOST: host,
        AAT_AUTH_MODE: "apiKey",
        AAT_AUTH_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
        AAT_PLANS_DIRS: plansDir,
        AAT_PLANS_WATCH: "false",
      },
    });
    runtime = await createGcpRuntime({ config, logger: createGcpLogger("info", (line) => logs.push(line)) });
    registerGcpFunctions(
      { http: "e2e-api", steps: "e2e-steps", schedules: "e2e-schedules" },
      () => Promise.resolve(runtime),
      {
        heartbeatMs: 1_000,
      },
    );
    api = await serve("e2e-api");
    steps = await serve("e2e-steps");
    schedules = await serve("e2e-schedules");
    // The emulator's endpoint and insecure credentials as the PubSub object works them out.
    const options = new PubSub({ projectId, apiEndpoint: host }).options;
    subscriber = new v1.SubscriberClient(options as ConstructorParameters<typeof v1.SubscriberClient>[0]);
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await steps?.close();
    await schedules?.close();
    await subscriber?.close();
    await runtime?.close();
    await PubSubQueue.destroy({ name: topic, projectId, apiEndpoint: host });
    const redis = new Redis(redisUrl);
    try {
      const keys = await redis.keys(`{${keyPrefix}}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    rmSync(plansDir, { recursive: true, force: true });
  }, 60_000);

  /**
   * What a push subscription does: pull what is there, POST each message to the push endpoint as the
   * messagePublished CloudEvent (structured mode), ack on 2xx, make it available again otherwise.
   */
  async function pushRound(): Promise<Array<{ id: string; status: number }>> {
    const [response] = await subscriber.pull({ subscription, maxMessages: 10, returnImmediately: true });
    const results: Array<{ id: string; status: number }> = [];
    for (const received of response.receivedMessages ?? []) {
      const message = received.message ?? {};
      const id = message.messageId ?? "";
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const seconds = Number(message.publishTime?.seconds ?? 0);
      const event = {
        specversion: "1.0",
        id,
        source: `//pubsub.googleapis.com/projects/${projectId}/topics/${topic}`,
        type: MESSAGE_PUBLISHED,
        time: new Date(seconds * 1000).toISOString(),
        datacontenttype: "application/json",
        data: {
          message: {
            data: Buffer.from(message.data as Uint8Array).toString("base64"),
            attributes: { ...(message.attributes ?? {}) },
            messageId: id,
            publishTime: new Date(seconds * 1000).toISOString(),
            ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
          },
          subscription,
          deliveryAttempt: attempt,
        },
      };
      const answer = await fetch(steps.url, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify(event),
      });
      await answer.arrayBuffer();
      results.push({ id, status: answer.status });
      if (answer.status < 300) {
        await subscriber.acknowledge({ subscription, ackIds: [received.ackId ?? ""] });
      } else {
        await subscriber.modifyAckDeadline({
          subscription,
          ackIds: [received.ackId ?? ""],
          ackDeadlineSeconds: 0,
        });
      }
    }
    return results;
  }

  it("runs a plan with an offline agent step, redelivering a failed delivery", async () => {
    const list = await fetch(`${api.url}/v1/plans`, { headers: auth });
    expect(list.status).toBe(200);
    expect(await list.text()).toContain("test.gcp-offline");

    const started = await fetch(`${api.url}/v1/runs`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ planId: "test.gcp-offline", input: { score: 92 } }),
    });
    const startedBody = await started.text();
    expect(started.status, startedBody).toBe(202);
    const { runId } = JSON.parse(startedBody) as { runId: string };

    // The first execute delivery fails (a store outage while handling, say): the function answers with
    // an error status, the message stays in the subscription and succeeds when pushed again.
    let injected: string | undefined;
    const handle = runtime.runner.handle.bind(runtime.runner);
    runtime.runner.handle = async (message: QueueMessage<WorkMessage>) => {
      if (injected === undefined && message.body.kind === "execute") {
        injected = message.id;
        throw new Error("injected failure: Redis unavailable");
      }
      return handle(message);
    };

    const answers: Array<{ id: string; status: number }> = [];
    let status = "";
    for (let round = 0; round < 200 && !["succeeded", "failed"].includes(status); round++) {
      answers.push(...(await pushRound()));
      const view = await fetch(`${api.url}/v1/runs/${runId}`, { headers: auth });
      status = ((await view.json()) as { run: { status: string } }).run.status;
      if (!["succeeded", "failed"].includes(status)) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    runtime.runner.handle = handle;

    const final = await fetch(`${api.url}/v1/runs/${runId}`, { headers: auth });
    const finalBody = await final.text();
    const { run } = JSON.parse(finalBody) as {
      run: { status: string; output?: { verdict?: string; rationale?: string } };
    };
    expect(run.status, finalBody).toBe("succeeded");
    expect(run.output?.verdict).toBe("malicious");
    expect(run.output?.rationale).toMatch(/offline model/i);

    expect(injected).toBeDefined();
    const forInjected = answers.filter((answer) => answer.id === injected);
    expect(forInjected[0]?.status).toBeGreaterThanOrEqual(500);
    expect(forInjected.at(-1)?.status).toBeLessThan(300);
    expect(attempts.get(injected!)).toBeGreaterThanOrEqual(2);
    expect(logs.some((line) => line.includes('"severity":"ERROR"') && line.includes(injected!))).toBe(true);

    // State lives in Redis under the configured prefix.
    const redis = new Redis(redisUrl);
    try {
      expect((await redis.keys(`{${keyPrefix}}*`)).length).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    expect((await runtime.stores.kv.get(runKeys.snapshot(runId)))?.value).toMatchObject({
      status: "succeeded",
    });
  }, 120_000);

  it("dead-letters a step message the Runner cannot read, with its reason, and acks the push", async () => {
    await runtime.stores.queue.publish({ kind: "bogus" } as unknown as WorkMessage);
    let answers: Array<{ id: string; status: number }> = [];
    for (let round = 0; round < 50 && answers.length === 0; round++) {
      answers = await pushRound();
      if (answers.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answers).toHaveLength(1);
    expect(answers[0]?.status).toBeLessThan(300);
    let dead: Awaited<ReturnType<typeof runtime.queue.listDeadLetters>> = [];
    for (let round = 0; round < 50 && dead.length === 0; round++) {
      dead = await runtime.queue.listDeadLetters();
      if (dead.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const letter = dead.find((one) => (one.body as { kind: string }).kind === "bogus");
    expect(letter?.reason).toMatch(/invalid work message/);
  }, 60_000);

  it("checks the plans' schedules when Cloud Scheduler POSTs to the schedules function", async () => {
    const checked = await fetch(schedules.url, { method: "POST" });
    expect(checked.status).toBe(200);
    // The shipped test plan has no schedule trigger: nothing is due.
    expect(await checked.json()).toEqual({ fired: [] });
    const wrong = await fetch(schedules.url);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });
});
