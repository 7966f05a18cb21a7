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
