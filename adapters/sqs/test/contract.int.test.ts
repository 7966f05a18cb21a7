import { MemoryKeyValue } from "@aat/adapter-memory";
import { queueContract } from "@aat/core/testing";
import { SqsQueue } from "../src/index.js";
import { awsTestConnection, TRANSPORTS } from "./aws-env.js";

// SQS counts time in whole seconds (visibility, delays, long polls): the lease and delay tests use 1 s.
const settings = { visibilityTimeoutMs: 1000, delayMs: 1000, quietMs: 1000 };

for (const transport of TRANSPORTS) {
  const connection = { ...awsTestConnection, transport };

  queueContract(
    `SqsQueue (standard, ${transport})`,
    async ({ name, visibilityTimeoutMs, maxDeliveries }) => {
      const queue = await SqsQueue.connect({
        ...connection,
        name,
        visibilityTimeoutMs,
        maxDeliveries,
        kv: new MemoryKeyValue(),
      });
      return { queue, cleanup: () => SqsQueue.destroy({ ...connection, name }) };
    },
    settings,
  );

  queueContract(
    `SqsQueue (FIFO, ${transport})`,
    async ({ name, visibilityTimeoutMs, maxDeliveries }) => {
      const queue = await SqsQueue.connect({
        ...connection,
        name,
        fifo: true,
        visibilityTimeoutMs,
        maxDeliveries,
      });
      return { queue, cleanup: () => SqsQueue.destroy({ ...connection, name, fifo: true }) };
    },
    settings,
  );
}
