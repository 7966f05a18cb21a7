export { type BroadcastFactory, broadcastContract } from "./broadcast-contract.js";
export {
  type BundleOutputs,
  inputsOf,
  outputKeyOf,
  startInputs,
  staticallyReached,
  zodAtStart,
} from "./bundle-graph.js";
export { eventually, sleep, uniqueSuffix } from "./contract-helpers.js";
export { motoUrl, pubsubEmulatorHost } from "./emulators.js";
export { type KeyValueContractSettings, type KeyValueFactory, keyValueContract } from "./kv-contract.js";
export * from "./llm-fixtures.js";
export { type LockContractSettings, type LockFactory, lockContract } from "./lock-contract.js";
export { type QueueContractSettings, type QueueFactory, queueContract } from "./queue-contract.js";
export { ScriptedLlmServer } from "./scripted-llm-server.js";
export * from "./scripted-model.js";
export { startZodSuite } from "./start-zod-suite.js";
