export {
  type ClientPort,
  PROPERTY,
  type ReceiverPort,
  type SenderPort,
  ServiceBusQueue,
  type ServiceBusQueueOptions,
} from "./servicebus-queue.js";
