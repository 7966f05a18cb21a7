/**
 * The Service Bus SDK, imported statically here and this module loaded with `await import()` by
 * ServiceBusQueue.connect: the SDK is read only when a queue connects, and a bundle built with code
 * splitting gets a working client (an `await import("@azure/service-bus")` in a split bundle yielded an
 * empty namespace).
 */
export { ServiceBusClient } from "@azure/service-bus";
