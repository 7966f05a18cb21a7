import type { AckSubject } from "./ack-subject.js";

interface Handed {
  /** The delivery count reported with the last copy handed out (corrected, see below). */
  count: number;
  /** The consumer sequence of that copy: the server numbers each delivery of its consumer, upwards. */
  consumerSequence: number;
  /** Until when (clock ms) its holder has it: ack wait from hand-out, or as extended; 0 once handed back. */
  heldUntil: number;
}

/**
 * What to do with a delivery: hand it out with this count, or not at all. `anomaly` says what the server
 * did wrong when the count was corrected or the copy is not handed out.
 */
export type Admission =
  | { handOut: true; deliveryCount: number; anomaly?: string }
  | { handOut: false; anomaly: string };

/**
 * The deliveries of the work consumer that this queue instance handed out and that are not yet settled
 * here, by stored message (stream sequence and store time), so that a server that sends a message again
 * with a delivery count that did not go up cannot make a holder see it twice or a count repeat.
 *
 * Why: nats-server before the fixes of nats-io/nats-server#5305 and #5338 (2.9.x, as on this project's
 * CI) could lose a redelivery to a pull request that expired the moment it was sent, and then send the
 * same stream sequence again as if it were new: delivery count 1, a new consumer sequence. The server's
 * own count (used for max_deliver and the max-deliveries advisory) still went up. A later copy of a
 * message this instance handed out, with a higher consumer sequence, is at least one delivery more than
 * the copy seen before, whatever count it carries.
 *
 * - While the earlier copy's holder still has it (ack wait from hand-out, or as extended; not nack'ed), a
 *   copy whose consumer sequence or count did not go up is dropped and left to the holder (acking,
 *   nacking or extending through the old receipt acts on the same stream sequence). It is neither acked
 *   nor nak'ed: a nak would hand it out again at once.
 * - After that, a later copy (higher consumer sequence) whose count did not go up is handed out as the
 *   earlier count plus one. A consumer sequence that went back means the consumer was created again:
 *   its count is taken as it comes.
 *
 * The ledger lives in the process: a copy that reaches another instance carries the server's count. It is
 * bounded; the oldest entries go first (messages settled by other instances are never removed otherwise).
 */
export class DeliveryLedger {
  private readonly handed = new Map<string, Handed>();

  constructor(
    private readonly ackWaitMs: number,
    private readonly capacity = 10_000,
  ) {}

  /** Decides about a delivery that arrived at `now` and, when it is handed out, records it. */
  admit(ack: AckSubject, now: number): Admission {
    const key = keyOf(ack);
    const before = this.handed.get(key);
    let deliveryCount = ack.deliveryCount;
    let anomaly: string | undefined;
    if (before) {
      const what = `stream sequence ${ack.streamSequence} came again (consumer sequence ${ack.consumerSequence}, delivery count ${ack.deliveryCount})`;
      const held = now < before.heldUntil;
      if (ack.consumerSequence <= before.consumerSequence) {
        // Not a later delivery: the same one again, or (lapsed) a consumer created again, which counts anew.
        if (held) return { handOut: false, anomaly: `${what}: a copy of a delivery that is held, dropped` };
      } else if (ack.deliveryCount <= before.count) {
        if (held)
          return { handOut: false, anomaly: `${what} while delivery ${before.count} is held: dropped` };
        deliveryCount = before.count + 1;
        anomaly = `${what} after delivery ${before.count} lapsed: handed out as delivery ${deliveryCount}`;
      }
      this.handed.delete(key);
    }
    this.handed.set(key, {
      count: deliveryCount,
      consumerSequence: ack.consumerSequence,
      heldUntil: now + this.ackWaitMs,
    });
    while (this.handed.size > this.capacity) this.handed.delete(this.handed.keys().next().value!);
    return anomaly ? { handOut: true, deliveryCount, anomaly } : { handOut: true, deliveryCount };
  }

  /** The count handed out with this delivery, or the one its receipt carries if the ledger has no record. */
  countOf(ack: AckSubject): number {
    const entry = this.handed.get(keyOf(ack));
    return entry && entry.consumerSequence === ack.consumerSequence
      ? Math.max(entry.count, ack.deliveryCount)
      : ack.deliveryCount;
  }

  /** Its holder extended the lease until `until` (clock ms). */
  extend(ack: AckSubject, until: number): void {
    const entry = this.handed.get(keyOf(ack));
    if (entry) entry.heldUntil = Math.max(entry.heldUntil, until);
  }

  /** Nack'ed: the next copy is a redelivery, not a duplicate of a held one. */
  handedBack(ack: AckSubject): void {
    const entry = this.handed.get(keyOf(ack));
    if (entry) entry.heldUntil = 0;
  }

  /** Acked or dead-lettered here: the message will not come back. */
  settled(ack: AckSubject): void {
    this.handed.delete(keyOf(ack));
  }

  get size(): number {
    return this.handed.size;
  }
}

/** Stream sequence and store time: a stream deleted and created again reuses sequences, not times. */
function keyOf(ack: AckSubject): string {
  return `${ack.stream}.${ack.streamSequence}.${ack.storedAt}`;
}
