import { randomUUID } from "node:crypto";
import type { MessageAttributes } from "@aat/core";
import type { Message, Options } from "amqplib";

/**
 * Adapter headers. Everything the port needs beyond the body travels in AMQP headers with this prefix, so
 * a copy republished for a retry, a lapsed lease or the dead-letter queue carries its whole state.
 */
export const HEADER = {
  /** Deliveries before this copy (0 when first published); deliveryCount is this + 1. */
  deliveries: "x-aat-deliveries",
  publishedAt: "x-aat-published-at",
  dedupeId: "x-aat-dedupe-id",
  /** Epoch ms before which a delay longer than one pass through the delay queues is not over. */
  notBefore: "x-aat-not-before",
  deadReason: "x-aat-dead-reason",
  deadLetteredAt: "x-aat-dead-lettered-at",
} as const;

/** The broker (x-death, x-first-death-*, x-delivery-count …) and the adapter own this namespace. */
const RESERVED_PREFIX = "x-";

/** What a message is, independent of any delivery of it. */
export interface Envelope {
  id: string;
  content: Buffer;
  attributes: MessageAttributes;
  dedupeId: string | undefined;
  deliveries: number;
  publishedAt: number;
  notBefore: number | undefined;
  deadReason: string | undefined;
  deadLetteredAt: number | undefined;
}

export function checkedAttributes(
  attributes: MessageAttributes | undefined,
  where: string,
): MessageAttributes {
  const copy: MessageAttributes = {};
  if (attributes === undefined) return copy;
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw new TypeError(`${where}: attributes must be an object of string values`);
  }
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== "string") {
      throw new TypeError(`${where}: attribute ${JSON.stringify(key)} must be a string, got ${typeof value}`);
    }
    if (key.toLowerCase().startsWith(RESERVED_PREFIX)) {
      throw new TypeError(
        `${where}: attribute ${JSON.stringify(key)} starts with "x-", which RabbitMQ and the adapter reserve ` +
          "for their own headers; rename it (for example drop the prefix)",
      );
    }
    copy[key] = value;
  }
  return copy;
}

export function publishProperties(envelope: Envelope): Options.Publish {
  const headers: Record<string, string | number> = {
    ...envelope.attributes,
    [HEADER.deliveries]: envelope.deliveries,
    [HEADER.publishedAt]: envelope.publishedAt,
  };
  if (envelope.dedupeId !== undefined) headers[HEADER.dedupeId] = envelope.dedupeId;
  if (envelope.notBefore !== undefined) headers[HEADER.notBefore] = envelope.notBefore;
  if (envelope.deadReason !== undefined) headers[HEADER.deadReason] = envelope.deadReason;
  if (envelope.deadLetteredAt !== undefined) headers[HEADER.deadLetteredAt] = envelope.deadLetteredAt;
  return {
    messageId: envelope.id,
    persistent: true,
    contentType: "application/json",
    headers,
    // Unroutable messages come back (basic.return) instead of vanishing; publish then fails.
    mandatory: true,
  };
}

/**
 * Reads a delivery. Messages from other publishers get defaults: a fresh id (kept by every copy the
 * adapter makes later), 0 deliveries, and `now` as publish time.
 */
export function readEnvelope(message: Message, now: number): Envelope {
  const headers = message.properties.headers ?? {};
  const attributes: MessageAttributes = {};
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value === "string" && !key.toLowerCase().startsWith(RESERVED_PREFIX)) attributes[key] = value;
  }
  const messageId = message.properties.messageId;
  const dedupeId = headers[HEADER.dedupeId];
  const deadReason = headers[HEADER.deadReason];
  return {
    id: typeof messageId === "string" && messageId !== "" ? messageId : randomUUID(),
    content: message.content,
    attributes,
    dedupeId: typeof dedupeId === "string" ? dedupeId : undefined,
    deliveries: Math.max(0, Math.trunc(numberHeader(headers[HEADER.deliveries]) ?? 0)),
    publishedAt: numberHeader(headers[HEADER.publishedAt]) ?? now,
    notBefore: numberHeader(headers[HEADER.notBefore]),
    deadReason: typeof deadReason === "string" ? deadReason : undefined,
    deadLetteredAt: numberHeader(headers[HEADER.deadLetteredAt]),
  };
}

function numberHeader(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}
