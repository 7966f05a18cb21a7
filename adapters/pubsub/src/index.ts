export { ATTRIBUTE, INTERNAL_ATTRIBUTES } from "./attributes.js";
export { PubSubQueue, type PubSubQueueOptions } from "./pubsub-queue.js";
export { type DecodedPush, decodePushDelivery, MESSAGE_PUBLISHED, PushDecodeError } from "./push-decoder.js";
