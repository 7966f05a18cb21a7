import type { Clock } from "@aat/core";
import { JetStreamApiCodes, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { parseAckSubject } from "./ack-subject.js";
import type { DeadLetterStore } from "./dead-letter-store.js";
import { AAT, copyHeaders, headerTime, headerValue, NATS_MSG_ID } from "./message-headers.js";
import { isApiError } from "./provisioning.js";
import type { QueueTopology } from "./topology.js";

export interface HandlerContext {
  connection: NatsConnection;
  client: JetStreamClient;
  manager: JetStreamManager;
  topology: QueueTopology;
  deadLetters: DeadLetterStore;
  clock: Clock;
  timeoutMs: number;
}

/** Acknowledges and waits for the server to confirm it (double ack), so a crash after it cannot repeat work. */
export async function confirm(
  connection: NatsConnection,
  receipt: string,
  payload: string,
  timeoutMs: number,
): Promise<void> {
  await connection.request(receipt, payload, { timeout: timeoutMs });
}

export function nakPayload(delayMs: number): string {
  return delayMs > 0 ? `-NAK ${JSON.stringify({ delay: Math.ceil(delayMs) * 1_000_000 })}` : "-NAK";
}

/**
 * A delayed message (on `<subject>.delayed`) that is not due yet is nak'ed with the remaining time, so the
 * server hands it back exactly then; a due one is republished on `<subject>` keeping its id, dedupeId and
 * publish time, then acked. The republish carries a `Nats-Msg-Id` derived from its sequence, so a crash
 * between the two steps cannot deliver it twice.
 */
export function moveWhenDue(context: HandlerContext): (message: Msg) => Promise<void> {
  return async (message) => {
    const ack = message.reply ? parseAckSubject(message.reply) : undefined;
    if (!ack || !message.reply) return;
    const deliverAt = headerTime(message.headers, AAT.deliverAt);
    const now = context.clock.now();
    if (deliverAt !== undefined && deliverAt > now) {
      context.connection.publish(message.reply, nakPayload(deliverAt - now));
      return;
    }
    const headers = copyHeaders(message.headers, [AAT.deliverAt]);
    if (!headers.has(AAT.messageId)) headers.set(AAT.messageId, String(ack.streamSequence));
    const dedupeId = headerValue(message.headers, NATS_MSG_ID);
    if (!headers.has(AAT.dedupeId) && dedupeId !== undefined) headers.set(AAT.dedupeId, dedupeId);
    if (!headers.has(AAT.publishedAt)) headers.set(AAT.publishedAt, String(ack.storedAt));
    await context.client.publish(context.topology.subject, message.data, {
      headers,
      msgID: `aat-move-${context.topology.stream}-${ack.streamSequence}`,
      timeout: context.timeoutMs,
    });
    await confirm(context.connection, message.reply, "+ACK", context.timeoutMs);
  };
}

const maxDeliveriesAdvisory = z.object({
  stream: z.string(),
  consumer: z.string(),
  stream_seq: z.number().int().positive(),
  deliveries: z.number().int().nonnegative(),
});

/**
 * The server publishes a MAX_DELIVERIES advisory when a message of the queue's consumer has been delivered
 * max_deliver times without ack and would be due again. The stream captures it; this moves the message to
 * the dead-letter stream and deletes it from the queue's stream (where it would otherwise stay forever).
 */
export function deadLetterExhausted(
  context: HandlerContext,
  maxDeliver: number,
  onError: (error: Error) => void,
): (message: Msg) => Promise<void> {
  return async (message) => {
    if (!message.reply) return;
    let advisory: z.infer<typeof maxDeliveriesAdvisory>;
    try {
      advisory = maxDeliveriesAdvisory.parse(message.json());
    } catch (error) {
      onError(
        new Error(
          `ignoring an unreadable max-deliveries advisory on ${message.subject}: ${(error as Error).message}`,
        ),
      );
      await confirm(context.connection, message.reply, "+TERM", context.timeoutMs);
      return;
    }
    const { stream, subject } = context.topology;
    const sequence = advisory.stream_seq;
    let stored: Awaited<ReturnType<JetStreamManager["streams"]["getMessage"]>>;
    try {
      stored = await context.manager.streams.getMessage(stream, { seq: sequence });
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.NoMessageFound)) throw error;
      stored = null;
    }
    // Gone already: acked late by its last holder, or dead-lettered by another instance.
    if (stored && stored.subject === subject) {
      await context.deadLetters.write({
        data: stored.data,
        headers: stored.header,
        streamSequence: sequence,
        storedAt: stored.time.getTime(),
        deliveryCount: advisory.deliveries,
        reason: `not acknowledged after ${advisory.deliveries} deliveries (maxDeliver ${maxDeliver})`,
      });
      try {
        await context.manager.streams.deleteMessage(stream, sequence);
      } catch (error) {
        if (!isApiError(error, JetStreamApiCodes.NoMessageFound)) throw error;
      }
    }
    await confirm(context.connection, message.reply, "+ACK", context.timeoutMs);
  };
}
