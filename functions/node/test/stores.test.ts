import { aatConfigSchema, loadConfig } from "@aat/core";
import { BackendStartError, openStores } from "@aat/functions-node";
import { describe, expect, it } from "vitest";

/** Nothing listens on port 1 of the loopback interface: connections are refused at once. */
const CLOSED = "127.0.0.1:1";

function configWith(settings: Record<string, unknown>) {
  return aatConfigSchema.parse({ dataDir: "/nonexistent/aat-test", ...settings });
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(BackendStartError);
  return outcome as Error;
}

describe("openStores with network backends that do not answer", () => {
  it("names the Redis server with the password masked, the reason, and the settings to fix", async () => {
    const error = await failureOf(
      openStores(
        configWith({
          kv: { kind: "redis", redis: { url: `redis://app:hunter2-secret@${CLOSED}` } },
          queue: { kind: "memory" },
        }),
      ),
    );
    expect(error.message).toMatch(/^the KeyValue store \(kv\.kind redis\) could not be opened: /);
    expect(error.message).toContain(`redis://app:***@${CLOSED}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).toContain("(settings: AAT_REDIS_URL or REDIS_URL");
    expect(error.message).not.toContain("hunter2-secret");
  });

  it("names the NATS servers with the password masked", async () => {
    const error = await failureOf(
      openStores(
        configWith({
          kv: { kind: "memory" },
          queue: { kind: "nats", nats: { servers: [`nats://aat:hunter2-secret@${CLOSED}`] } },
        }),
      ),
    );
    expect(error.message).toMatch(/^the step queue \(queue\.kind nats\) could not be opened: /);
    expect(error.message).toContain(`nats://aat:***@${CLOSED}`);
    expect(error.message).toMatch(/connection refused/);
    expect(error.message).toContain("(settings: AAT_NATS_SERVERS or NATS_URL");
    expect(error.message).not.toContain("hunter2-secret");
  });

  it("names the RabbitMQ broker with the password masked", async () => {
    const error = await failureOf(
      openStores(
        configWith({
          kv: { kind: "memory" },
          queue: { kind: "rabbitmq", rabbitmq: { url: `amqp://aat:hunter2-secret@${CLOSED}` } },
        }),
      ),
    );
    expect(error.message).toMatch(/^the step queue \(queue\.kind rabbitmq\) could not be opened: /);
    expect(error.message).toContain(`amqp://aat:***@${CLOSED}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain("hunter2-secret");
  });

  it("refuses a Redis key prefix with braces when the configuration is read", () => {
    const env = { AAT_KV_KIND: "redis", AAT_REDIS_URL: "redis://127.0.0.1", AAT_REDIS_KEY_PREFIX: "a{b}" };
    expect(() => loadConfig({ env })).toThrow(
      '- kv.redis.keyPrefix (env AAT_REDIS_KEY_PREFIX): "a{b}" has the wrong form; expected a non-empty string without { or }',
    );
  });
});
