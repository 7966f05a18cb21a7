export { UpstashKeyValue, type UpstashKeyValueOptions } from "./upstash-key-value.js";
