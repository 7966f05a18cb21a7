import type { Clock, DeadLetter } from "@aat/core";
import {
  JetStreamApiCodes,
  type JetStreamClient,
  type JetStreamManager,
  type MsgRequest,
  type NextMsgRequest,
  type StoredMsg,
} from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { decodeBody } from "./body.js";
import {
  AAT,
  copyHeaders,
  headersToAttributes,
  headerTime,
  headerValue,
  NATS_MSG_ID,
} from "./message-headers.js";
import { isApiError } from "./provisioning.js";
import type { QueueTopology } from "./topology.js";

/** A message on its way to the dead-letter stream, as it was stored in the queue's stream. */
export interface DyingMessage {
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  /** Its sequence in the queue's stream; makes the dead-letter write idempotent. */
  streamSequence: number;
  /** Epoch ms at which the queue's stream stored it. */
  storedAt: number;
  deliveryCount: number;
  reason: string;
}

/**
 * The `<stream>_DLQ` stream: each dead letter is the original body with the original headers plus the
 * reason, the time and the delivery count, so `nats stream view` shows what failed and why. The dead
 * letter's id is its sequence in that stream.
 */
export class DeadLetterStore {
  constructor(
    private readonly client: JetStreamClient,
    private readonly manager: JetStreamManager,
    private readonly topology: QueueTopology,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  async write(message: DyingMessage): Promise<void> {
    const { topology } = this;
    const headers = copyHeaders(message.headers, [
      AAT.deliverAt,
      AAT.deadReason,
      AAT.deadAt,
      AAT.deliveryCount,
    ]);
    if (!headers.has(AAT.messageId)) headers.set(AAT.messageId, String(message.streamSequence));
    const dedupeId = headerValue(message.headers, NATS_MSG_ID);
    if (!headers.has(AAT.dedupeId) && dedupeId !== undefined) headers.set(AAT.dedupeId, dedupeId);
    if (!headers.has(AAT.publishedAt)) headers.set(AAT.publishedAt, String(message.storedAt));
    // JSON keeps line breaks and edge whitespace of the reason intact inside one header line.
    headers.set(AAT.deadReason, JSON.stringify(message.reason));
    headers.set(AAT.deadAt, String(this.clock.now()));
    headers.set(AAT.deliveryCount, String(message.deliveryCount));
    await this.client.publish(topology.deadLetterSubject, message.data, {
      headers,
      msgID: `aat-dead-${topology.stream}-${message.streamSequence}`,
      timeout: this.timeoutMs,
    });
  }

  /** Oldest first. Jumps over removed letters with `next_by_subj` (one request per letter). */
  async list(limit: number): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    let sequence = 1;
    while (letters.length < limit) {
      const stored = await this.next(sequence);
      if (!stored) break;
      letters.push(toDeadLetter(stored));
      sequence = stored.seq + 1;
    }
    return letters;
  }

  async get(sequence: number): Promise<StoredMsg | undefined> {
    const stored = await this.manager.streams.getMessage(this.topology.deadLetterStream, { seq: sequence });
    return stored && stored.subject === this.topology.deadLetterSubject ? stored : undefined;
  }

  async remove(sequence: number): Promise<void> {
    try {
      await this.manager.streams.deleteMessage(this.topology.deadLetterStream, sequence);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.NoMessageFound)) throw error;
    }
  }

  private async next(sequence: number): Promise<StoredMsg | undefined> {
    const request: NextMsgRequest = { seq: sequence, next_by_subj: this.topology.deadLetterSubject };
    // STREAM.MSG.GET has understood next_by_subj since server 2.9; the client's type only lists seq and
    // last_by_subj, and passes the request through unchanged.
    const stored = await this.manager.streams.getMessage(
      this.topology.deadLetterStream,
      request as unknown as MsgRequest,
    );
    return stored ?? undefined;
  }
}

function toDeadLetter(stored: StoredMsg): DeadLetter {
  const headers = stored.header;
  const decoded = decodeBody(stored.data);
  const dedupeId = headerValue(headers, AAT.dedupeId);
  return {
    id: String(stored.seq),
    // A body that was not JSON (the reason it was dead-lettered, usually) is shown as its text.
    body: decoded.ok ? decoded.value : decoded.text,
    attributes: headersToAttributes(headers),
    ...(dedupeId !== undefined ? { dedupeId } : {}),
    deliveryCount: Number(headerValue(headers, AAT.deliveryCount) ?? 0),
    reason: readReason(headerValue(headers, AAT.deadReason)),
    deadLetteredAt: headerTime(headers, AAT.deadAt) ?? stored.time.getTime(),
  };
}

function readReason(raw: string | undefined): string {
  if (raw === undefined) return "unknown (the dead letter carries no reason header)";
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === "string" ? parsed : raw;
  } catch {
    return raw;
  }
}
