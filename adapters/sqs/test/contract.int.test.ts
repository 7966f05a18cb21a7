import { MemoryKeyValue } from "@aat/adapter-memory";
import { queueContract } from "@aat/core/testing";
import { SqsQueue } from "../src/index.js";
import { awsTestConnection } from "./aws-env.js";

// SQS counts time in whole seconds (visibility, delays, long polls): the lease and delay tests use 1 s.
const settings = { visibilityTimeoutMs: 1000, delayMs: 1000, quietMs: 1000 };

queueContract(
  "SqsQueue (standard)",
  async ({ name, visibilityTimeoutMs, maxDeliveries }) => {
    const queue = await SqsQueue.connect({
      ...awsTestConnection,
      name,
      visibilityTimeoutMs,
      maxDeliveries,
      kv: new MemoryKeyValue(),
    });
    return { queue, cleanup: () => SqsQueue.destroy({ ...awsTestConnection, name }) };
  },
  settings,
);

queueContract(
  "SqsQueue (FIFO)",
  async ({ name, visibilityTimeoutMs, maxDeliveries }) => {
    const queue = await SqsQueue.connect({
      ...awsTestConnection,
      name,
      fifo: true,
      visibilityTimeoutMs,
      maxDeliveries,
    });
    return { queue, cleanup: () => SqsQueue.destroy({ ...awsTestConnection, name, fifo: true }) };
  },
  settings,
);
