import { describe, expect, it } from "vitest";
import { NatsQueue, type NatsQueueOptions } from "../src/index.js";

// Options are checked before any connection is attempted, so these need no server.
const base = { servers: "nats://127.0.0.1:4222", stream: "AAT_STEPS" };

const refused = (options: unknown) => NatsQueue.connect(options as NatsQueueOptions);

describe("NatsQueue.connect option checks", () => {
  it("names the bad option", async () => {
    await expect(refused({ ...base, stream: "steps.v1" })).rejects.toThrow(
      /NatsQueue.connect options are invalid:[\s\S]*stream may contain only letters, digits/,
    );
    await expect(refused({ ...base, subject: "steps.>" })).rejects.toThrow(
      /subject must be dot-separated tokens/,
    );
    await expect(refused({ ...base, consumer: "" })).rejects.toThrow(/consumer must be a non-empty string/);
    await expect(refused({ ...base, ackWaitMs: 50 })).rejects.toThrow(/ackWaitMs must be at least 100 ms/);
    await expect(refused({ ...base, maxDeliver: 0 })).rejects.toThrow(/maxDeliver must be at least 1/);
    await expect(refused({ ...base, duplicateWindowMs: 10 })).rejects.toThrow(
      /duplicateWindowMs must be at least 100 ms/,
    );
    await expect(refused({ ...base, maxAckPending: 0 })).rejects.toThrow(/maxAckPending must be -1/);
    await expect(refused({ ...base, storage: "disk" })).rejects.toThrow(/storage/);
    await expect(refused({ stream: "AAT_STEPS" })).rejects.toThrow(/servers/);
    await expect(refused({ ...base, servers: [] })).rejects.toThrow(/servers must not be empty/);
  });

  it("refuses unknown options and conflicting credentials", async () => {
    await expect(refused({ ...base, visibilityTimeoutMs: 1000 })).rejects.toThrow(/visibilityTimeoutMs/);
    await expect(refused({ ...base, user: "aat" })).rejects.toThrow(/user and pass go together/);
    await expect(refused({ ...base, user: "aat", pass: "x", token: "t" })).rejects.toThrow(
      /choose one way to authenticate/,
    );
    await expect(refused({ ...base, tls: { certFile: "client.pem" } })).rejects.toThrow(
      /tls.certFile and tls.keyFile go together/,
    );
    await expect(refused({ ...base, clock: {} })).rejects.toThrow(/clock must be an object with a now\(\)/);
  });

  it("says when the credentials file cannot be read", async () => {
    await expect(refused({ ...base, credsFile: "/nonexistent/aat.creds" })).rejects.toThrow(
      /cannot read credsFile \/nonexistent\/aat.creds/,
    );
  });
});
