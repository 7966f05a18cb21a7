import { type DecodedPush, decodePushDelivery, PushDecodeError } from "@aat/adapter-pubsub";
import { type CloudEvent, cloudEvent } from "@google-cloud/functions-framework";

export interface PubSubPushOptions<T> {
  /** Processes one delivery; a throw answers with an error status, so Pub/Sub delivers it again. */
  handle(delivery: DecodedPush<T>): Promise<void>;
  /** Told about a delivery that is not a Pub/Sub message aat can read (it is acknowledged, not retried). */
  onMalformed?(error: PushDecodeError, event: unknown): void;
  clock?: () => number;
}

/**
 * Registers a CloudEvent function for Pub/Sub push (`google.cloud.pubsub.topic.v1.messagePublished`,
 * what Eventarc triggers deliver). Settlement is the HTTP status: success acks, an error makes Pub/Sub
 * retry with its backoff (and dead-letter after the subscription's max delivery attempts).
 * - A malformed event is acknowledged and reported to `onMalformed`: retrying cannot fix it, and an
 *   error status would only redeliver it until it is dead-lettered.
 * - A message with a not-before time in the future (a delayed publish or nack) is refused with an error
 *   so Pub/Sub redelivers it later; push has no per-message delay of its own.
 */
export function registerPubSubPushFunction<T = unknown>(name: string, options: PubSubPushOptions<T>): void {
  const now = options.clock ?? Date.now;
  cloudEvent(name, async (event: CloudEvent<unknown>) => {
    let delivery: DecodedPush<T>;
    try {
      delivery = decodePushDelivery<T>(event);
    } catch (error) {
      if (!(error instanceof PushDecodeError)) throw error;
      options.onMalformed?.(error, event);
      return;
    }
    if (delivery.notBefore !== undefined && delivery.notBefore > now()) {
      throw new Error(
        `message ${delivery.message.id} is not due until ${new Date(delivery.notBefore).toISOString()}`,
      );
    }
    await options.handle(delivery);
  });
}
