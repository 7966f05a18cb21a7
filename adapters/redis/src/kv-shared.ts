/**
 * What another transport to Redis needs to store KeyValue entries exactly as RedisKeyValue does: the Lua
 * scripts, the key layout and the packed `<version>|<json>` value format. The Upstash adapter imports it
 * (`@aat/adapter-redis/kv-shared`) so both adapters share one copy of the semantics and one data layout.
 * Nothing here loads ioredis at run time.
 */
export { type KeyValueScripts, keyValueScripts } from "./kv-scripts.js";
export { DEFAULT_KEY_PREFIX, keyPrefixSchema, Namespace } from "./namespace.js";
export { isWellFormed, parseOptions, ttlArgument } from "./options.js";
export { damagedEntry, unpackEntry } from "./stored-value.js";
