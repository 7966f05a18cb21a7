import type { QueueMessage } from "@aat/core";
import { installZodDefaults } from "@aat/core/zod-defaults";
import * as z from "zod/mini";
import { ATTRIBUTE, INTERNAL_ATTRIBUTES } from "./attributes.js";

// zod/mini sets no locale: without English, every issue would read "Invalid input".
installZodDefaults();

export const MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished";

/** Pub/Sub's PubsubMessage as push sends it (JSON names; push also repeats some in snake_case). */
const pubsubMessage = z.object({
  data: z.optional(z.base64("message.data must be base64")),
  attributes: z.optional(z.record(z.string(), z.string())),
  messageId: z.optional(z.string().check(z.minLength(1))),
  message_id: z.optional(z.string().check(z.minLength(1))),
  publishTime: z.optional(z.iso.datetime({ offset: true })),
  publish_time: z.optional(z.iso.datetime({ offset: true })),
  orderingKey: z.optional(z.string()),
});

/**
 * The body Pub/Sub POSTs to a push endpoint (and the `data` of the messagePublished CloudEvent). The
 * Functions Framework, given a raw push body for a CloudEvent function, converts it and keeps only the
 * message (no subscription, deliveryAttempt or orderingKey): those are optional here, so such a
 * delivery is read, not dropped as malformed. Without deliveryAttempt the count is 1 and the
 * subscription's dead-letter policy is what stops a poison message.
 */
const pushBody = z.object({
  message: pubsubMessage,
  subscription: z.optional(z.string().check(z.minLength(1))),
  deliveryAttempt: z.optional(z.number().check(z.int(), z.positive())),
});

/** A structured-mode CloudEvent (what Eventarc and the Functions Framework hand a CloudEvent function). */
const cloudEvent = z.object({
  specversion: z.literal("1.0"),
  id: z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  type: z.literal(MESSAGE_PUBLISHED, {
    error: `type must be ${MESSAGE_PUBLISHED}: only Pub/Sub messagePublished events carry queue messages`,
  }),
  time: z.optional(z.string()),
  data: pushBody,
});

export interface DecodedPush<T> {
  message: QueueMessage<T>;
  /** `projects/<project>/subscriptions/<name>` the delivery came through, when the delivery says. */
  subscription?: string;
  orderingKey?: string;
  /** Epoch ms before which the message must not run (a delayed publish or nack), if any. */
  notBefore?: number;
}

/** A push delivery that is not a Pub/Sub message this adapter can read: answer it as a failure. */
export class PushDecodeError extends Error {
  override readonly name = "PushDecodeError";
}

/**
 * Reads one Pub/Sub push delivery: a `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent
 * (structured mode) or the raw push body `{ message, subscription, deliveryAttempt? }`. The body is the
 * message data as JSON. Pushed messages are acked by the HTTP status, so `receipt` is empty; the
 * delivery count is Pub/Sub's `deliveryAttempt` when the subscription has a dead-letter policy, else 1.
 */
export function decodePushDelivery<T = unknown>(input: unknown): DecodedPush<T> {
  const isCloudEvent = typeof input === "object" && input !== null && "specversion" in input;
  const parsed = isCloudEvent ? cloudEvent.safeParse(input) : pushBody.safeParse(input);
  if (!parsed.success) {
    throw new PushDecodeError(
      `not a Pub/Sub ${isCloudEvent ? "messagePublished CloudEvent" : "push body"}: ${z.prettifyError(parsed.error)}`,
    );
  }
  const push = "specversion" in parsed.data ? parsed.data.data : parsed.data;
  const raw = push.message;
  const id = raw.messageId ?? raw.message_id;
  if (id === undefined) throw new PushDecodeError("not a Pub/Sub push body: message.messageId is missing");
  const published = raw.publishTime ?? raw.publish_time;
  const text = raw.data === undefined ? "" : Buffer.from(raw.data, "base64").toString("utf8");
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch (error) {
    throw new PushDecodeError(
      `Pub/Sub message ${id}: data is not JSON (${(error as Error).message}); aat publishes JSON bodies`,
    );
  }
  const all = raw.attributes ?? {};
  const attributes = Object.fromEntries(
    Object.entries(all).filter(([name]) => !INTERNAL_ATTRIBUTES.has(name)),
  );
  const notBefore = all[ATTRIBUTE.notBefore] === undefined ? undefined : Number(all[ATTRIBUTE.notBefore]);
  if (notBefore !== undefined && !Number.isFinite(notBefore)) {
    throw new PushDecodeError(
      `Pub/Sub message ${id}: attribute ${ATTRIBUTE.notBefore} is not epoch milliseconds`,
    );
  }
  const dedupeId = all[ATTRIBUTE.dedupeId];
  return {
    message: {
      id,
      body,
      attributes,
      ...(dedupeId === undefined ? {} : { dedupeId }),
      deliveryCount: push.deliveryAttempt ?? 1,
      publishedAt: published === undefined ? Date.now() : Date.parse(published),
      receipt: "",
    },
    ...(push.subscription ? { subscription: push.subscription } : {}),
    ...(raw.orderingKey ? { orderingKey: raw.orderingKey } : {}),
    ...(notBefore === undefined ? {} : { notBefore }),
  };
}
