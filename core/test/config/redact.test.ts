import { describe, expect, it } from "vitest";
import { loadConfig, redactConfig } from "../../src/config/index.js";

const SECRET = "TOPSECRET-41c2e8";

describe("redactConfig", () => {
  const { config } = loadConfig({
    cwd: "/srv/aat",
    env: {
      AAT_QUEUE_KIND: "nats",
      AAT_NATS_SERVERS: "nats://127.0.0.1:4222",
      AAT_NATS_USER: "aat",
      AAT_NATS_PASS: `${SECRET}-nats-pass`,
      AAT_NATS_TOKEN: `${SECRET}-nats-token`,
      AAT_RABBITMQ_URL: `amqp://aat:${SECRET}@127.0.0.1:5672`,
      AAT_SERVICEBUS_CONNECTION_STRING: `Endpoint=sb://x/;SharedAccessKey=${SECRET}`,
      AAT_KV_KIND: "upstash",
      AAT_UPSTASH_URL: "https://eu1.upstash.io",
      AAT_UPSTASH_TOKEN: `${SECRET}-upstash`,
      AAT_REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379`,
      AAT_MODELS_JSON: JSON.stringify({
        fast: { provider: "openai", model: "gpt-4o-mini", apiKey: `${SECRET}-json` },
      }),
      AAT_MODEL_LOCAL_PROVIDER: "offline",
      AAT_MODEL_CLAUDE_PROVIDER: "anthropic",
      AAT_MODEL_CLAUDE_MODEL: "claude-sonnet-4",
      AAT_MODEL_CLAUDE_API_KEY: `${SECRET}-anthropic`,
      AAT_MODELS_DEFAULT: "fast",
      AAT_AUTH_BOOTSTRAP_ADMIN_KEY: `${SECRET}-admin-key`,
    },
  });

  it("replaces every secret that is set and keeps everything else", () => {
    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);
    expect(text).not.toContain(SECRET);
    expect(redacted.queue.nats).toMatchObject({
      servers: ["nats://127.0.0.1:4222"],
      user: "aat",
      pass: "<redacted>",
      token: "<redacted>",
    });
    expect(redacted.queue.rabbitmq.url).toBe("<redacted>");
    expect(redacted.queue.servicebus.connectionString).toBe("<redacted>");
    expect(redacted.kv.upstash).toEqual({ url: "https://eu1.upstash.io", token: "<redacted>" });
    expect(redacted.kv.redis.url).toBe("<redacted>");
    expect(redacted.models.providers).toEqual({
      fast: { provider: "openai", model: "gpt-4o-mini", apiKey: "<redacted>" },
      local: { provider: "offline" },
      claude: { provider: "anthropic", model: "claude-sonnet-4", apiKey: "<redacted>" },
    });
    expect(redacted.auth.bootstrapAdminKey).toBe("<redacted>");
    expect(redacted.server).toEqual(config.server);
    expect(redacted.limits).toEqual(config.limits);
  });

  it("leaves unset secrets unset and does not touch the original", () => {
    const redacted = redactConfig(loadConfig({ env: {} }).config);
    expect(redacted.queue.nats.pass).toBeUndefined();
    expect("apiKey" in (redacted.models.providers.default ?? {})).toBe(false);
    expect(config.queue.kind === "nats" && config.queue.nats.pass).toBe(`${SECRET}-nats-pass`);
  });
});
