import { queueContract } from "@aat/core/testing";
import { ServiceBusQueue } from "../src/index.js";
import { FakeServiceBus } from "../src/testing.js";

// No Service Bus emulator runs here: the contract suite runs against the adapter over an in-memory
// fake of the SDK's sender/receiver (see docs/testing.md for what this does not prove).
queueContract("ServiceBusQueue (over the SDK fake)", async (options) => {
  const maxDeliveries = options.maxDeliveries ?? 5;
  const bus = new FakeServiceBus({
    lockDurationMs: options.visibilityTimeoutMs ?? 30_000,
    maxDeliveryCount: maxDeliveries,
  });
  return { queue: new ServiceBusQueue(bus, { name: options.name, maxDeliveries }) };
});
