import { describe, expect, it } from "vitest";
import { type AckSubject, parseAckSubject } from "../src/ack-subject.js";
import { DeliveryLedger } from "../src/delivery-ledger.js";

const ACK_WAIT_MS = 1_000;
const ack = (receipt: string): AckSubject => {
  const parsed = parseAckSubject(receipt);
  if (!parsed) throw new Error(`not an ack subject: ${receipt}`);
  return parsed;
};
const stream = "aat-contract-mwykb1yo71dd6678";
/** `$JS.ACK.<stream>.workers.<delivered>.<stream seq>.<consumer seq>.<stored nanos>.<pending>` */
const receipt = (delivered: number, consumerSequence: number, streamSequence = 1) =>
  `$JS.ACK.${stream}.workers.${delivered}.${streamSequence}.${consumerSequence}.1795758602950575352.0`;

describe("DeliveryLedger", () => {
  it("counts a message sent again with count 1 after its lease lapsed as the second delivery (nats-server 2.9.10, seen in CI)", () => {
    // The receipts of a failing run of the Queue contract's dead-letter case: the redelivery at the ack
    // wait was lost to an expiring pull; six seconds later the server sent stream sequence 1 again as new.
    const ledger = new DeliveryLedger(ACK_WAIT_MS);
    expect(ledger.admit(ack(receipt(1, 1)), 0)).toEqual({ handOut: true, deliveryCount: 1 });
    const again = ledger.admit(ack(receipt(1, 2)), 6_004);
    expect(again).toMatchObject({ handOut: true, deliveryCount: 2 });
    expect(again.anomaly).toContain("after delivery 1 lapsed");
    expect(ledger.countOf(ack(receipt(1, 2)))).toBe(2);
  });

  it("does not hand out a copy whose count did not go up while the earlier delivery is still held", () => {
    const ledger = new DeliveryLedger(ACK_WAIT_MS);
    expect(ledger.admit(ack(receipt(2, 2)), 1_000)).toEqual({ handOut: true, deliveryCount: 2 });
    // nats-io/nats-server#5305: the same message again with count 1, while delivery 2 is held.
    expect(ledger.admit(ack(receipt(1, 3)), 1_010).handOut).toBe(false);
    // Its holder extended the lease: still held past the ack wait.
    ledger.extend(ack(receipt(2, 2)), 5_000);
    expect(ledger.admit(ack(receipt(1, 4)), 4_000).handOut).toBe(false);
    // Lapsed: whatever comes next is at least the third delivery.
    expect(ledger.admit(ack(receipt(1, 5)), 5_001)).toMatchObject({ handOut: true, deliveryCount: 3 });
  });

  it("drops a second copy of a held delivery, hands out a nack'ed message again at once", () => {
    const ledger = new DeliveryLedger(ACK_WAIT_MS);
    expect(ledger.admit(ack(receipt(1, 1)), 0).handOut).toBe(true);
    expect(ledger.admit(ack(receipt(1, 1)), 500).handOut).toBe(false);
    ledger.handedBack(ack(receipt(1, 1)));
    expect(ledger.admit(ack(receipt(2, 2)), 10)).toEqual({ handOut: true, deliveryCount: 2 });
  });

  it("takes the count as it comes once a consumer sequence went back after the lease lapsed (consumer created again)", () => {
    const ledger = new DeliveryLedger(ACK_WAIT_MS);
    expect(ledger.admit(ack(receipt(2, 5)), 0).handOut).toBe(true);
    expect(ledger.admit(ack(receipt(1, 1)), 1_500)).toEqual({ handOut: true, deliveryCount: 1 });
  });

  it("keeps the server's count when it went up, and forgets settled and the oldest messages", () => {
    const ledger = new DeliveryLedger(ACK_WAIT_MS, 2);
    expect(ledger.admit(ack(receipt(1, 1)), 0).handOut).toBe(true);
    expect(ledger.admit(ack(receipt(3, 4)), 2_000)).toEqual({ handOut: true, deliveryCount: 3 });
    ledger.settled(ack(receipt(3, 4)));
    expect(ledger.size).toBe(0);
    for (const sequence of [1, 2, 3]) ledger.admit(ack(receipt(1, sequence, sequence)), 0);
    expect(ledger.size).toBe(2);
    // Stream sequence 1 was forgotten: its next copy carries the server's count.
    expect(ledger.admit(ack(receipt(1, 9, 1)), 0)).toEqual({ handOut: true, deliveryCount: 1 });
    expect(ledger.countOf(ack(receipt(4, 7, 5)))).toBe(4);
  });
});
