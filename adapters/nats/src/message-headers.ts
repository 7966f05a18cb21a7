import type { MessageAttributes } from "@aat/core";
import { headers, type MsgHdrs } from "@nats-io/transport-node";

/** Broker-side duplicate suppression: the server drops a second message with the same id inside the window. */
export const NATS_MSG_ID = "Nats-Msg-Id";

/**
 * The adapter's own headers. Everything else on a message is an attribute. They exist because a message
 * that is moved (delayed publish) or redriven is a new stream message with a new `Nats-Msg-Id`, yet it must
 * keep the identity the publisher was given.
 */
export const AAT = {
  /** The message id the publisher got (the first stream sequence), kept across moves and redrives. */
  messageId: "Aat-Message-Id",
  /** The publisher's dedupeId, when `Nats-Msg-Id` holds the adapter's own move/redrive id. */
  dedupeId: "Aat-Dedupe-Id",
  /** Epoch ms of the first publish, when the stream message was written later (delayed publish). */
  publishedAt: "Aat-Published-At",
  /** Epoch ms before which a delayed message must not be delivered. */
  deliverAt: "Aat-Deliver-At",
  deadReason: "Aat-Dead-Reason",
  deadAt: "Aat-Dead-At",
  deliveryCount: "Aat-Delivery-Count",
} as const;

const RESERVED_PREFIXES = ["nats-", "aat-"];

export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/**
 * Attributes become NATS headers one to one. Names must be printable ASCII without ":" and must not start
 * with the reserved `Nats-`/`Aat-`; values must survive the header encoding unchanged (no CR/LF, no
 * leading or trailing whitespace, which NATS trims).
 */
export function attributesToHeaders(attributes: MessageAttributes | undefined, where: string): MsgHdrs {
  const result = headers();
  if (attributes === undefined) return result;
  if (attributes === null || typeof attributes !== "object" || Array.isArray(attributes)) {
    throw new TypeError(`${where}: attributes must be an object of string values`);
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value !== "string") {
      throw new TypeError(
        `${where}: attribute ${JSON.stringify(name)} must be a string, got ${typeof value}`,
      );
    }
    if (name.length === 0 || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
      throw new TypeError(
        `${where}: attribute name ${JSON.stringify(name)} cannot be a NATS header name; ` +
          'use printable ASCII without spaces or ":"',
      );
    }
    if (isReservedHeader(name)) {
      throw new TypeError(
        `${where}: attribute name ${JSON.stringify(name)} is reserved (names starting with "Nats-" or "Aat-" ` +
          "belong to NATS and this adapter); rename it",
      );
    }
    if (/[\r\n]/.test(value) || value !== value.trim()) {
      throw new TypeError(
        `${where}: attribute ${JSON.stringify(name)} has a value NATS headers cannot carry unchanged ` +
          "(line breaks, or whitespace at the start or end); encode it first",
      );
    }
    result.set(name, value);
  }
  return result;
}

/** The attributes carried by a stored message: every header except the reserved ones. */
export function headersToAttributes(source: MsgHdrs | undefined): MessageAttributes {
  const attributes: MessageAttributes = {};
  if (!source) return attributes;
  for (const name of source.keys()) {
    if (!isReservedHeader(name)) attributes[name] = source.get(name);
  }
  return attributes;
}

/** A copy of `source` without `Nats-Msg-Id` and the named adapter headers, ready for a re-publish. */
export function copyHeaders(source: MsgHdrs | undefined, drop: readonly string[] = []): MsgHdrs {
  const copy = headers();
  if (!source) return copy;
  const dropped = new Set([NATS_MSG_ID, ...drop].map((name) => name.toLowerCase()));
  for (const name of source.keys()) {
    if (dropped.has(name.toLowerCase())) continue;
    for (const value of source.values(name)) copy.append(name, value);
  }
  return copy;
}

/** A header value, or undefined when absent or empty. */
export function headerValue(source: MsgHdrs | undefined, name: string): string | undefined {
  const value = source?.get(name);
  return value ? value : undefined;
}

/** A header holding epoch milliseconds, or undefined when absent or not a number. */
export function headerTime(source: MsgHdrs | undefined, name: string): number | undefined {
  const value = headerValue(source, name);
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const time = Number(value);
  return Number.isSafeInteger(time) ? time : undefined;
}
