import type { DynamoKeyValueOptions } from "./options.js";

/** Core's `kv.dynamodb` settings (docs/configuration.md), as a runtime has them once the kind is dynamodb. */
export interface DynamoSettings {
  table: string;
  region?: string | undefined;
  endpoint?: string | undefined;
  transport: "auto" | "rest" | "sdk";
}

/**
 * `DynamoKeyValue.connect` options from the configuration, for every runtime that opens the store (AWS
 * Lambda, the node runtime).
 */
export function dynamoOptionsFromSettings(settings: DynamoSettings): DynamoKeyValueOptions {
  const { table, region, endpoint, transport } = settings;
  return { tableName: table, transport, ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
}
