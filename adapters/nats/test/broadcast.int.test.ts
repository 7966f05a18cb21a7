import { broadcastContract, uniqueSuffix } from "@aat/core/testing";
import { describe, expect, it } from "vitest";
import { NatsBroadcast } from "../src/index.js";
import { natsUrl } from "./nats-server.js";

broadcastContract("NatsBroadcast on the real server", async () => {
  const subjectPrefix = `aat.test.broadcast.${uniqueSuffix()}`;
  return {
    a: await NatsBroadcast.connect({ servers: natsUrl, subjectPrefix }),
    b: await NatsBroadcast.connect({ servers: natsUrl, subjectPrefix }),
  };
});

describe("NatsBroadcast", () => {
  it("keeps deployments with other subject prefixes apart", async () => {
    const a = await NatsBroadcast.connect({ servers: natsUrl, subjectPrefix: `aat.test.a${uniqueSuffix()}` });
    const b = await NatsBroadcast.connect({ servers: natsUrl, subjectPrefix: `aat.test.b${uniqueSuffix()}` });
    const received: string[] = [];
    await b.subscribe("chat", (message) => received.push(message));
    a.publish("chat", "not for b");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received).toEqual([]);
    await a.close();
    await b.close();
  });

  it("says which servers it cannot reach", async () => {
    await expect(
      NatsBroadcast.connect({
        servers: "nats://127.0.0.1:1",
        connectTimeoutMs: 500,
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow(/NatsBroadcast cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  });
});
