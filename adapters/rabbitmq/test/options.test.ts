import { describe, expect, it } from "vitest";
import { RabbitQueue } from "../src/index.js";
import { redactUrl } from "../src/options.js";
import { delayRoutingKey, topologyFor } from "../src/topology.js";

const url = "amqp://guest:guest@127.0.0.1:5672";

describe("RabbitQueue options", () => {
  it("refuses unknown and ill-typed options before connecting, naming them", async () => {
    await expect(RabbitQueue.connect({ url, name: "q", prefetch: 10 } as never)).rejects.toThrow(
      /RabbitQueue.connect options are invalid:[\s\S]*prefetch/,
    );
    await expect(RabbitQueue.connect({ url, name: "q", visibilityTimeoutMs: 0 })).rejects.toThrow(
      /visibilityTimeoutMs/,
    );
    await expect(RabbitQueue.connect({ url, name: "q", delayLevels: 33 })).rejects.toThrow(/delayLevels/);
    await expect(RabbitQueue.connect({ url, name: "q", kv: {} as never })).rejects.toThrow(
      /kv must implement the KeyValue port/,
    );
  });

  it("refuses URLs that are not AMQP and names RabbitMQ cannot hold", async () => {
    await expect(RabbitQueue.connect({ url: "http://127.0.0.1:5672", name: "q" })).rejects.toThrow(
      /url must be an amqp:\/\/ or amqps:\/\/ URL/,
    );
    await expect(RabbitQueue.connect({ url, name: "amq.work" })).rejects.toThrow(/reserved by RabbitMQ/);
    await expect(RabbitQueue.connect({ url, name: "é".repeat(200) })).rejects.toThrow(/at most 246 bytes/);
    await expect(RabbitQueue.connect({ url, name: "" })).rejects.toThrow(/name must be a non-empty string/);
  });

  it("redacts the password in URLs it reports", () => {
    expect(redactUrl("amqp://aat:s3cret@rabbit.internal:5672/prod")).toBe(
      "amqp://aat:***@rabbit.internal:5672/prod",
    );
    expect(redactUrl("amqp://rabbit.internal")).toBe("amqp://rabbit.internal");
  });
});

describe("delay routing keys", () => {
  it("spell the delay in binary, most significant level first", () => {
    const topology = topologyFor("q", 4);
    expect(topology.maxDelayMs).toBe(15);
    expect(delayRoutingKey(topology, 1)).toBe("0.0.0.1");
    expect(delayRoutingKey(topology, 10)).toBe("1.0.1.0");
    expect(delayRoutingKey(topology, 15)).toBe("1.1.1.1");
    const full = topologyFor("q", 32);
    expect(full.maxDelayMs).toBe(2 ** 32 - 1);
    expect(delayRoutingKey(full, 2 ** 31 + 1)).toBe(`1.${"0.".repeat(30)}1`);
  });
});
