import { startDevProxy } from "./dev-proxy.js";

/**
 * `npm run upstash:proxy`: the DEV/TEST-ONLY Upstash REST proxy in front of REDIS_URL. Prints the URL and
 * token to give the Upstash adapter (UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN).
 */
const token = process.env.UPSTASH_PROXY_TOKEN ?? "aat-dev-upstash-token";
const port = Number(process.env.UPSTASH_PROXY_PORT ?? "8079");
const proxy = await startDevProxy({ redisUrl: process.env.REDIS_URL, token, port });
console.log(
  `Upstash dev proxy (dev/test only) on ${proxy.url} -> ${process.env.REDIS_URL ?? "redis://127.0.0.1:6379"}`,
);
console.log(`UPSTASH_REDIS_REST_URL=${proxy.url} UPSTASH_REDIS_REST_TOKEN=${token}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void proxy.close().then(() => process.exit(0)));
}
