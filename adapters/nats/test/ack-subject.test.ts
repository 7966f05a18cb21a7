import { describe, expect, it } from "vitest";
import { parseAckSubject } from "../src/index.js";

describe("parseAckSubject", () => {
  it("reads the classic nine-token form", () => {
    expect(parseAckSubject("$JS.ACK.ORDERS.workers.3.42.17.1795684735411121950.5")).toEqual({
      stream: "ORDERS",
      consumer: "workers",
      deliveryCount: 3,
      streamSequence: 42,
      consumerSequence: 17,
      storedAt: 1795684735411,
    });
  });

  it("reads the form with domain and account hash, with and without the trailing token", () => {
    const expected = {
      stream: "ORDERS",
      consumer: "workers",
      deliveryCount: 1,
      streamSequence: 7,
      consumerSequence: 2,
      storedAt: 1795684735411,
    };
    expect(parseAckSubject("$JS.ACK.hub.ACCHASH.ORDERS.workers.1.7.2.1795684735411121950.0")).toEqual(
      expected,
    );
    expect(parseAckSubject("$JS.ACK.hub.ACCHASH.ORDERS.workers.1.7.2.1795684735411121950.0.xyz")).toEqual(
      expected,
    );
  });

  it("refuses what is not a JetStream ack subject", () => {
    expect(parseAckSubject("_INBOX.abc")).toBeUndefined();
    expect(parseAckSubject("$JS.ACK.ORDERS.workers.1.7")).toBeUndefined();
    expect(parseAckSubject("$JS.ACK.ORDERS.workers.0.7.2.1795684735411121950.0")).toBeUndefined();
    expect(parseAckSubject("$JS.ACK.ORDERS.workers.1.x.2.1795684735411121950.0")).toBeUndefined();
    expect(parseAckSubject("$JS.ACK.ORDERS.workers.1.7.0.1795684735411121950.0")).toBeUndefined();
    expect(parseAckSubject("$JS.ACK.ORDERS.workers.1.7.2.notanumber.0")).toBeUndefined();
  });
});
