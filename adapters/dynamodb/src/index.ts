export { DynamoKeyValue, MAX_ITEM_BYTES, MAX_KEY_BYTES } from "./dynamo-key-value.js";
export type { DynamoKeyValueOptions, DynamoTableOptions } from "./options.js";
export { bucketOf, createTable, deleteTable } from "./table.js";
