/**
 * What JetStream encodes in the reply subject of a delivered message. The reply subject is the receipt the
 * adapter hands out: acking is a publish to it, so any process connected to the server can ack, nack or
 * extend a delivery it did not receive itself.
 */
export interface AckSubject {
  stream: string;
  consumer: string;
  /** How many times this message has been delivered to the consumer, 1 on the first delivery. */
  deliveryCount: number;
  streamSequence: number;
  /** The consumer's number for this delivery: every delivery, first or again, gets the next one. */
  consumerSequence: number;
  /** Epoch milliseconds at which the stream stored the message. */
  storedAt: number;
}

/**
 * Parses `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<nanos>.<pending>` and the
 * newer form with domain and account hash after `$JS.ACK` (and an optional random token at the end).
 * Returns undefined for anything else.
 */
export function parseAckSubject(subject: string): AckSubject | undefined {
  if (typeof subject !== "string" || !subject.startsWith("$JS.ACK.")) return undefined;
  const tokens = subject.split(".");
  let offset: number;
  if (tokens.length === 9) offset = 2;
  else if (tokens.length === 11 || tokens.length === 12) offset = 4;
  else return undefined;
  const [stream, consumer, delivered, streamSequence, consumerSequence, nanos] = tokens.slice(offset);
  if (!stream || !consumer) return undefined;
  const deliveryCount = Number(delivered);
  const sequence = Number(streamSequence);
  const delivery = Number(consumerSequence);
  if (!Number.isSafeInteger(deliveryCount) || deliveryCount < 1) return undefined;
  if (!Number.isSafeInteger(sequence) || sequence < 1) return undefined;
  if (!Number.isSafeInteger(delivery) || delivery < 1) return undefined;
  if (!nanos || !/^\d+$/.test(nanos)) return undefined;
  return {
    stream,
    consumer,
    deliveryCount,
    streamSequence: sequence,
    consumerSequence: delivery,
    storedAt: Number(BigInt(nanos) / 1_000_000n),
  };
}
