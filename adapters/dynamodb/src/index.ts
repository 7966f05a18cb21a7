export {
  createTable,
  DynamoKeyValue,
  deleteTable,
  MAX_ITEM_BYTES,
  MAX_KEY_BYTES,
} from "./dynamo-key-value.js";
export { type DynamoSettings, dynamoOptionsFromSettings } from "./from-config.js";
export { bucketOf } from "./layout.js";
export type { DynamoKeyValueOptions, DynamoTableOptions } from "./options.js";
export { resolveTransport, type Transport, type TransportPlan } from "./transport.js";
