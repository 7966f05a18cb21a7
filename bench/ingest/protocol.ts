import { createHmac } from "node:crypto";
import type autocannon from "autocannon";
import { z } from "zod";

/** What a server process started by the ingest bench reports to it (over the fork IPC channel). */
export const readyMessage = z.object({ ready: z.literal(true), url: z.string().url() });

/** The webhook's trigger id, its secret's name and the secret itself (shared by both servers). */
export const TRIGGER_ID = "bench-hook";
export const SECRET_NAME = "bench_hook";
export const SECRET = "bench-ingest-secret-0123456789abcdef";

/** Settings handed to a server process in its environment. */
export const serverEnv = z.object({
  BENCH_REDIS_URL: z.string().min(1),
  BENCH_NATS_URL: z.string().min(1),
  BENCH_KEY_PREFIX: z.string().min(1),
  BENCH_STREAM: z.string().min(1),
});
export type ServerEnv = z.infer<typeof serverEnv>;

/** Tells the parent where the server listens. */
export function reportReady(url: string): void {
  process.send?.({ ready: true, url });
}

/** A request factory: every request gets a new body, signed as a sender signs it. */
export function signedRequests(tag: string) {
  let n = 0;
  return (request: autocannon.Request): autocannon.Request => {
    const body = JSON.stringify({ n: n++, id: `${tag}-${n}-${process.hrtime.bigint()}` });
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
    return {
      ...request,
      body,
      headers: { "content-type": "application/json", "x-aat-signature": `t=${t},v1=${v1}` },
    };
  };
}
