export { type AckSubject, parseAckSubject } from "./ack-subject.js";
export { NatsBroadcast, type NatsBroadcastOptions } from "./nats-broadcast.js";
export { NatsQueue } from "./nats-queue.js";
export type { NatsConnectionOptions, NatsQueueOptions } from "./options.js";
export { type QueueTopology, queueTopology } from "./topology.js";
