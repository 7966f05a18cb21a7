/**
 * Chat on split roles: the api runtime holds the chat request, a worker runtime (another runtime with
 * its own connections, as another process would have) runs the agent step. The reply's token deltas
 * cross between them through the broadcast (NATS core subjects with QUEUE=nats, Redis pub/sub with
 * KV=redis and another queue), so the reply streams instead of arriving whole at the end.
 */
import { join } from "node:path";
import { NatsQueue } from "@aat/adapter-nats";
import { RabbitQueue } from "@aat/adapter-rabbitmq";
import { deleteNamespace } from "@aat/adapter-redis";
import { aatConfigSchema } from "@aat/core";
import { ScriptedLlmServer, uniqueSuffix } from "@aat/core/testing";
import { type NodeRuntime, startNodeRuntime } from "@aat/functions-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse, scriptedChatModels } from "./chat-support.js";
import { NATS_URL, REDIS_URL } from "./durability/cluster.js";
import { capturingLogger, SHIPPED_PLANS, tempDir } from "./support.js";

const RABBIT_URL = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

type QueueKind = "nats" | "rabbitmq";

describe.each<QueueKind>(["nats", "rabbitmq"])(
  "chat with role api and role worker apart (queue %s)",
  (queueKind) => {
    let llm: ScriptedLlmServer;
    const runtimes: NodeRuntime[] = [];
    const suffix = uniqueSuffix();
    const prefix = `aat-chat-replicas-${suffix}`;
    const stream = `AAT_CHAT_REPLICAS_${suffix}`;
    let api: NodeRuntime;
    let key = "";

    beforeAll(async () => {
      llm = await ScriptedLlmServer.start();
      const config = (dataDir: string) =>
        aatConfigSchema.parse({
          dataDir,
          server: { port: 0, shutdownGraceMs: 1000 },
          plans: { directories: [join(SHIPPED_PLANS, "chat")], watch: false },
          telemetry: { logLevel: "warn" },
          kv: { kind: "redis", redis: { url: REDIS_URL, keyPrefix: prefix } },
          queue:
            queueKind === "nats"
              ? { kind: "nats", nats: { servers: [NATS_URL], stream, subjectPrefix: stream.toLowerCase() } }
              : { kind: "rabbitmq", rabbitmq: { url: RABBIT_URL, queue: `aat-chat-replicas-${suffix}` } },
          models: scriptedChatModels(llm.openAiBaseUrl),
        });
      const start = async (role: "api" | "worker") => {
        const runtime = await startNodeRuntime({
          config: config(await tempDir(`chat-${role}`)),
          role,
          logger: capturingLogger().logger,
          print: () => undefined,
          tuning: { pollWaitMs: 50 },
        });
        runtimes.push(runtime);
        return runtime;
      };
      api = await start("api");
      await start("worker");
      key = api.bootstrap?.status === "generated" ? api.bootstrap.key : "";
    });

    afterAll(async () => {
      for (const runtime of runtimes.reverse()) await runtime.stop();
      await llm?.close();
      const redis = new Redis(REDIS_URL);
      await deleteNamespace(redis, prefix);
      redis.disconnect();
      if (queueKind === "nats") await NatsQueue.destroy({ servers: NATS_URL, stream });
      else await RabbitQueue.destroy({ url: RABBIT_URL, name: `aat-chat-replicas-${suffix}` });
    });

    it("streams the reply token by token to the api while the worker runs the agent step", async () => {
      const reply = "The worker wrote this reply and the api streamed it, piece by piece.";
      llm.enqueue({ kind: "reply", text: reply, chunkSize: 5 });
      const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
      const created = await fetch(`${api.url}/v1/chat/sessions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ title: "replicas" }),
      });
      expect(created.status).toBe(201);
      const session = (await created.json()) as { id: string };
      const response = await fetch(`${api.url}/v1/chat/sessions/${session.id}/messages`, {
        method: "POST",
        headers,
        body: JSON.stringify({ text: "Who answers?" }),
      });
      expect(response.status).toBe(200);
      const events = await readSse(response);
      const done = events.findIndex((e) => e.event === "done");
      expect(done).toBe(events.length - 1);
      const deltas = events.slice(0, done).filter((e) => e.event === "delta");
      // Without the broadcast the api would get no delta from the worker, only the stored reply at the end
      // (one delta event of the whole text, sent after the run finished).
      expect(deltas.length).toBeGreaterThanOrEqual(5);
      expect(deltas.map((d) => d.data.text).join("")).toBe(reply);
      expect(events[done]!.data).toMatchObject({ status: "succeeded", message: { text: reply } });
    });
  },
);
