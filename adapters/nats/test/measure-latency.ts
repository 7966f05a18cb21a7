/**
 * Publish, receive and ack latency of NatsQueue against a real server, one operation at a time, next to a
 * bare JetStream publish measured in the same run. Not a test: `npx tsx adapters/nats/test/measure-latency.ts`
 * (NATS_URL, default nats://127.0.0.1:4222). Figures go into docs/ports.md.
 */
import { performance } from "node:perf_hooks";
import { uniqueSuffix } from "@aat/core/testing";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsQueue } from "../src/index.js";
import { natsUrl } from "./nats-server.js";

const rounds = Number(process.env.ROUNDS ?? 2_000);
const warmup = 200;

function summary(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
  return `${name.padEnd(34)} mean ${us(mean).padStart(8)}  p50 ${us(at(0.5)).padStart(8)}  p99 ${us(at(0.99)).padStart(8)}`;
}

async function main(): Promise<void> {
  const stream = `aat-latency-${uniqueSuffix()}`;
  const queue = await NatsQueue.connect({
    servers: natsUrl,
    stream,
    onError: (error) => console.error(error),
  });
  const raw = await connect({ servers: natsUrl });
  try {
    const body = { runId: "r-0001", stepKey: "r-0001/fetch/1", input: { ip: "192.0.2.10" } };
    const publish: number[] = [];
    const receive: number[] = [];
    const ack: number[] = [];
    const dedupePublish: number[] = [];
    for (let round = 0; round < rounds + warmup; round++) {
      let started = performance.now();
      await queue.publish(body, {
        attributes: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      });
      const published = performance.now() - started;
      started = performance.now();
      const [message] = await queue.receive({ waitMs: 1_000 });
      const received = performance.now() - started;
      if (!message) throw new Error("the message published a moment ago was not received");
      started = performance.now();
      await queue.ack(message);
      const acked = performance.now() - started;
      started = performance.now();
      const duplicate = await queue.publish(body, { dedupeId: `r-0001/step/${round}` });
      const deduped = performance.now() - started;
      if (duplicate.duplicate) throw new Error("a fresh dedupeId was reported as a duplicate");
      const [extra] = await queue.receive({ waitMs: 1_000 });
      if (extra) await queue.ack(extra);
      if (round < warmup) continue;
      publish.push(published);
      receive.push(received);
      ack.push(acked);
      dedupePublish.push(deduped);
    }

    const client = jetstream(raw);
    const bare: number[] = [];
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    for (let round = 0; round < rounds + warmup; round++) {
      const started = performance.now();
      await client.publish(stream, bytes);
      if (round >= warmup) bare.push(performance.now() - started);
    }

    console.log(`NATS ${raw.info?.version} at ${natsUrl}, ${rounds} rounds each, sequential`);
    console.log(summary("NatsQueue.publish", publish));
    console.log(summary("NatsQueue.publish with dedupeId", dedupePublish));
    console.log(summary("NatsQueue.receive (message ready)", receive));
    console.log(summary("NatsQueue.ack (confirmed)", ack));
    console.log(summary("bare js.publish (baseline)", bare));
  } finally {
    await queue.close();
    await raw.close();
    await NatsQueue.destroy({ servers: natsUrl, stream });
  }
}

await main();
