export type { RabbitQueueDestroyOptions, RabbitQueueOptions } from "./options.js";
export { RabbitQueue } from "./rabbit-queue.js";
