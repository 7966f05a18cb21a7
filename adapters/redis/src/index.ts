export {
  describeEndpoint,
  parseRedisUrl,
  type RedisClient,
  type RedisEndpoint,
  type RedisTlsOptions,
  resolveEndpoint,
} from "./connection-options.js";
export { LuaScript } from "./lua-script.js";
export { DEFAULT_KEY_PREFIX, deleteNamespace, Namespace } from "./namespace.js";
export { RedisBroadcast, type RedisBroadcastOptions } from "./redis-broadcast.js";
export { RedisKeyValue, type RedisKeyValueOptions } from "./redis-key-value.js";
export { RedisLock, type RedisLockOptions } from "./redis-lock.js";
