import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { ServiceBusQueue } from "@aat/adapter-servicebus";
import { FakeServiceBus } from "@aat/adapter-servicebus/testing";
import { loadConfig, ManualClock, type WorkMessage } from "@aat/core";
import { offlineVerdictPlan } from "@aat/core/testing";
import { HttpRequest, InvocationContext, type Timer } from "@azure/functions";
import type { ServiceBusReceivedMessage } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AzureBackendError,
  type AzureRuntime,
  createAzureLogger,
  createAzureRuntime,
  createHttpHandler,
  createTimerHandler,
  createWorkerHandler,
  openAzureStores,
} from "../src/index.js";

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as T;

const ADMIN_KEY = `aat_azure-test_${"k".repeat(40)}`;
const OFFLINE_PLAN = offlineVerdictPlan("test.azure-offline", "Offline verdict on Azure Functions");

/** An HttpRequest as the host builds it, from the documented request fixture. */
function httpRequest(method: string, path: string, body?: unknown): HttpRequest {
  const base = fixture<{ url: string; headers: Record<string, string> }>("http-request.json");
  return new HttpRequest({
    method,
    url: new URL(path, base.url).toString(),
    headers: { ...base.headers, authorization: `Bearer ${ADMIN_KEY}` },
    ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }),
  });
}

/** The invocation context the host passes a Service Bus trigger for this received message. */
function serviceBusContext(message: ServiceBusReceivedMessage): InvocationContext {
  const base = fixture<Record<string, unknown>>("servicebus-trigger-metadata.json");
  return new InvocationContext({
    functionName: "steps",
    triggerMetadata: {
      ...base,
      messageId: message.messageId,
      deliveryCount: message.deliveryCount,
      enqueuedTimeUtc: message.enqueuedTimeUtc?.toISOString(),
      lockToken: message.lockToken,
      applicationProperties: message.applicationProperties,
    },
  });
}

describe("Azure Functions handlers (Service Bus over the SDK fake, KeyValue in memory)", () => {
  let plansDir: string;
  let runtime: AzureRuntime;
  let bus: FakeServiceBus;
  const logs: string[] = [];

  beforeAll(async () => {
    plansDir = mkdtempSync(join(tmpdir(), "aat-azure-plans-"));
    writeFileSync(join(plansDir, "offline.yaml"), OFFLINE_PLAN);
    const { config } = loadConfig({
      env: {
        AAT_KV_KIND: "memory",
        AAT_QUEUE_KIND: "memory",
        AAT_AUTH_MODE: "apiKey",
        AAT_AUTH_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
        AAT_PLANS_DIRS: plansDir,
        AAT_PLANS_WATCH: "false",
      },
    });
    bus = new FakeServiceBus({ lockDurationMs: 60_000, maxDeliveryCount: 5 });
    const kv = new MemoryKeyValue();
    const queue = new ServiceBusQueue<WorkMessage>(bus, { name: "aat-steps", maxDeliveries: 5 });
    runtime = await createAzureRuntime({
      config,
      logger: createAzureLogger("info", (line) => logs.push(line)),
      stores: {
        kv,
        queue,
        description: "kv memory, queue servicebus (fake)",
        async close() {
          await queue.close();
          await kv.close();
        },
      },
    });
  });

  afterAll(async () => {
    await runtime?.close();
    rmSync(plansDir, { recursive: true, force: true });
  });

  it("runs a plan: app.http starts it, app.serviceBusQueue invocations finish it, a failed one is abandoned and retried", async () => {
    const get = () => Promise.resolve(runtime);
    const http = createHttpHandler(get);
    const worker = createWorkerHandler(get);
    const started = await http(
      httpRequest("POST", "/v1/runs", { planId: "test.azure-offline", input: { score: 92 } }),
      new InvocationContext({ functionName: "api" }),
    );
    const startedBody = new TextDecoder().decode(started.body as Uint8Array);
    expect(started.status, startedBody).toBe(202);
    const { runId } = JSON.parse(startedBody) as { runId: string };

    const handle = runtime.runner.handle.bind(runtime.runner);
    let injected: string | undefined;
    runtime.runner.handle = async (message) => {
      if (injected === undefined && message.body.kind === "execute") {
        injected = message.id;
        throw new Error("injected failure: Redis unavailable");
      }
      return handle(message);
    };
    // What the Functions host does: receive (peek-lock), invoke, complete on return, abandon on throw.
    const receiver = bus.createReceiver("aat-steps");
    const outcomes: Array<{ id: string; ok: boolean }> = [];
    let status = "";
    for (let round = 0; round < 50 && !["succeeded", "failed"].includes(status); round++) {
      for (const message of await receiver.receiveMessages(1, { maxWaitTimeInMs: 20 })) {
        try {
          await worker(message.body, serviceBusContext(message));
          await receiver.completeMessage(message);
          outcomes.push({ id: message.messageId as string, ok: true });
        } catch {
          await receiver.abandonMessage(message);
          outcomes.push({ id: message.messageId as string, ok: false });
        }
      }
      const view = await http(httpRequest("GET", `/v1/runs/${runId}`), new InvocationContext());
      status = (JSON.parse(new TextDecoder().decode(view.body as Uint8Array)) as { run: { status: string } })
        .run.status;
    }
    runtime.runner.handle = handle;
    const final = await http(httpRequest("GET", `/v1/runs/${runId}`), new InvocationContext());
    const { run } = JSON.parse(new TextDecoder().decode(final.body as Uint8Array)) as {
      run: { status: string; output?: { verdict?: string; rationale?: string } };
    };
    expect(run.status).toBe("succeeded");
    expect(run.output?.verdict).toBe("malicious");
    expect(injected).toBeDefined();
    const forInjected = outcomes.filter((outcome) => outcome.id === injected);
    expect(forInjected.map((outcome) => outcome.ok)).toEqual([false, true]);
    // Step messages carry the run's trace context and the dedupe id as messageId.
    expect(bus.calls.some((call) => call.op === "send" && call.message.messageId === injected)).toBe(true);
  });

  it("throws (abandon) for an unreadable step message, naming the dead-letter reason, and for bad trigger metadata", async () => {
    const worker = createWorkerHandler(() => Promise.resolve(runtime));
    const base = fixture<Record<string, unknown>>("servicebus-trigger-metadata.json");
    await expect(
      worker({ kind: "bogus" }, new InvocationContext({ functionName: "steps", triggerMetadata: base })),
    ).rejects.toThrow(/must be dead-lettered \(invalid work message/);
    await expect(
      worker("not json", new InvocationContext({ functionName: "steps", triggerMetadata: base })),
    ).rejects.toThrow(/must be dead-lettered/);
    await expect(
      worker(
        { kind: "bogus" },
        new InvocationContext({ functionName: "steps", triggerMetadata: { messageId: "" } }),
      ),
    ).rejects.toThrow(/not a Service Bus trigger invocation/);
  });

  it("app.timer fires a plan's due schedule trigger once, with the documented Timer object", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aat-azure-schedule-"));
    writeFileSync(
      join(dir, "nightly.yaml"),
      `id: test.azure-every-minute
workflow: automation
title: Every minute
triggers:
  - type: schedule
    cron: "* * * * *"
    timezone: UTC
steps:
  - id: hello
    type: set
    values: { at: "tick" }
`,
    );
    const clock = new ManualClock(Date.parse("2026-11-26T15:00:30Z"));
    const { config } = loadConfig({
      env: { AAT_KV_KIND: "memory", AAT_QUEUE_KIND: "memory", AAT_AUTH_MODE: "apiKey", AAT_PLANS_DIRS: dir },
    });
    const kv = new MemoryKeyValue({ clock });
    const queue = new ServiceBusQueue<WorkMessage>(
      new FakeServiceBus({ lockDurationMs: 60_000, maxDeliveryCount: 5 }),
      {
        name: "aat-steps",
      },
    );
    const scheduled = await createAzureRuntime({
      config,
      clock,
      logger: createAzureLogger("error", () => undefined),
      stores: {
        kv,
        queue,
        description: "kv memory, queue servicebus (fake)",
        async close() {
          await queue.close();
          await kv.close();
        },
      },
    });
    try {
      const timer = createTimerHandler(() => Promise.resolve(scheduled));
      const context = () => new InvocationContext({ functionName: "schedules" });
      // The first check anchors the schedule (ticks before the function first saw it are not fired).
      expect(await timer(fixture<Timer>("timer.json"), context())).toEqual([]);
      clock.advance(60_000);
      const fired = await timer(fixture<Timer>("timer.json"), context());
      expect(fired).toHaveLength(1);
      expect(fired[0]?.planId).toBe("test.azure-every-minute");
      // A second invocation for the same minute (the host retrying, or two instances) fires nothing.
      expect(await timer(fixture<Timer>("timer.json"), context())).toEqual([]);
    } finally {
      await scheduled.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses stores an Azure function app cannot share, naming the settings", async () => {
    const { config } = loadConfig({ env: { AAT_KV_KIND: "sqlite", AAT_QUEUE_KIND: "memory" } });
    await expect(openAzureStores(config)).rejects.toThrow(AzureBackendError);
    await expect(openAzureStores(config)).rejects.toThrow(/AAT_KV_KIND to redis/);
  });
});
