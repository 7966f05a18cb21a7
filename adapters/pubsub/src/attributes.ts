/**
 * Message attributes the adapter sets beside the body. Pub/Sub has no broker-side dedupe, delay or
 * delivery count of its own for every subscription type, so these travel with the message.
 */
export const ATTRIBUTE = {
  /** The publisher's dedupe id (`PublishOptions.dedupeId`). */
  dedupeId: "aat-dedupe-id",
  /** Epoch milliseconds before which the message must not be processed (delays and delayed nacks). */
  notBefore: "aat-not-before",
} as const;

/** Attributes that belong to the adapter, not to the caller: removed from `QueueMessage.attributes`. */
export const INTERNAL_ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(ATTRIBUTE));
