import { broadcastContract } from "@aat/core/testing";
import { describe, expect, it } from "vitest";
import { NatsBroadcast } from "../src/index.js";
import { natsUrl } from "./nats-server.js";

broadcastContract("NatsBroadcast on the real server", (namespace) =>
  NatsBroadcast.connect({ servers: natsUrl, subjectPrefix: `aat.test.${namespace}` }),
);

describe("NatsBroadcast", () => {
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
