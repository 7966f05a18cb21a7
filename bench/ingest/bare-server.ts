/**
 * The ingest bench's baseline: a bare node:http server doing exactly what a webhook delivery needs and
 * nothing else: verify the HMAC signature, claim the delivery with a Redis SET NX PX, publish the work
 * to JetStream and await its ack, answer 202. No framework, no validation, no logging.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { RawJetStream } from "../lib/backends.js";
import { reportReady, SECRET, serverEnv, TRIGGER_ID } from "./protocol.js";

const env = serverEnv.parse(process.env);
const redis = new Redis(env.BENCH_REDIS_URL);
const stream = await RawJetStream.open(env.BENCH_STREAM, env.BENCH_NATS_URL);
const REPLAY_WINDOW_S = 300;

function verified(header: string | undefined, body: Buffer): boolean {
  const match = header && /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(Date.now() / 1000 - t) > REPLAY_WINDOW_S) return false;
  const expected = createHmac("sha256", SECRET).update(`${t}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, "hex"));
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", async () => {
    const body = Buffer.concat(chunks);
    if (!verified(request.headers["x-aat-signature"] as string | undefined, body)) {
      response.writeHead(401).end();
      return;
    }
    const id = createHash("sha256").update(body).digest("hex");
    try {
      const claimed = await redis.set(`${env.BENCH_KEY_PREFIX}:hook:${id}`, "1", "PX", 600_000, "NX");
      if (claimed !== null) await stream.publish(body);
      response
        .writeHead(202, { "content-type": "application/json" })
        .end(JSON.stringify({ runId: id.slice(0, 32), duplicate: claimed === null }));
    } catch (error) {
      response.writeHead(503).end(String(error));
    }
  });
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  reportReady(`http://127.0.0.1:${port}/v1/hooks/${TRIGGER_ID}`);
});
const stop = async () => {
  server.close();
  await stream.close();
  redis.disconnect();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
