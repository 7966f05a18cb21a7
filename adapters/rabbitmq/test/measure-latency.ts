/**
 * Sequential publish / receive / ack latency of RabbitQueue against a real broker, next to a bare amqplib
 * confirmed publish and basic.get measured in the same run. Not a test: `npm run latency -w
 * @aat/adapter-rabbitmq` prints the figures quoted in docs/ports.md.
 */
import { performance } from "node:perf_hooks";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { uniqueSuffix } from "@aat/core/testing";
import { connect } from "amqplib";
import { RabbitQueue } from "../src/index.js";
import { rabbitUrl } from "./rabbit-env.js";

const rounds = Number(process.env.ROUNDS ?? 2000);

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000;
  return `${label.padEnd(34)} median ${at(0.5).toFixed(0).padStart(5)} µs   p99 ${at(0.99).toFixed(0).padStart(6)} µs`;
}

async function timed(samples: number[], work: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await work();
  samples.push(performance.now() - start);
}

async function measureAdapter(): Promise<string[]> {
  const name = `aat-latency-${uniqueSuffix()}`;
  const queue = await RabbitQueue.connect({ url: rabbitUrl, name, kv: new MemoryKeyValue() });
  const publish: number[] = [];
  const publishDedupe: number[] = [];
  const receive: number[] = [];
  const ack: number[] = [];
  let throughput = "";
  try {
    for (let round = 0; round < rounds; round++) {
      await timed(publish, () => queue.publish({ round }));
      await timed(publishDedupe, () => queue.publish({ round }, { dedupeId: `latency/${round}` }));
      for (let taken = 0; taken < 2; taken++) {
        let messages: Awaited<ReturnType<typeof queue.receive>> = [];
        await timed(receive, async () => {
          messages = await queue.receive({ waitMs: 0 });
        });
        await timed(ack, () => queue.ack(messages[0]!));
      }
    }
    // Confirms of persistent messages wait for the broker's fsync, which it shares between publishes in
    // flight together: throughput with concurrent publishers is far above 1 / latency.
    const concurrent = 64;
    const started = performance.now();
    for (let batch = 0; batch < rounds / concurrent; batch++) {
      await Promise.all(Array.from({ length: concurrent }, (_, index) => queue.publish({ batch, index })));
    }
    const perSecond = (Math.floor(rounds / concurrent) * concurrent) / ((performance.now() - started) / 1000);
    throughput = `RabbitQueue.publish, ${concurrent} in flight: ${perSecond.toFixed(0)} messages/s`;
  } finally {
    await queue.close();
    await RabbitQueue.destroy({ url: rabbitUrl, name });
  }
  return [
    summary("RabbitQueue.publish", publish),
    summary("RabbitQueue.publish with dedupeId", publishDedupe),
    summary("RabbitQueue.receive (1 ready)", receive),
    summary("RabbitQueue.ack", ack),
    throughput,
  ];
}

async function measureBare(): Promise<string[]> {
  const name = `aat-latency-bare-${uniqueSuffix()}`;
  const model = await connect(rabbitUrl, { noDelay: true });
  const channel = await model.createConfirmChannel();
  await channel.assertQueue(name, { durable: true });
  const publish: number[] = [];
  const get: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      await timed(publish, async () => {
        channel.sendToQueue(name, Buffer.from(JSON.stringify({ round })), { persistent: true });
        await channel.waitForConfirms();
      });
      await timed(get, async () => {
        const message = await channel.get(name);
        if (message !== false) channel.ack(message);
      });
    }
  } finally {
    await channel.deleteQueue(name);
    await model.close();
  }
  return [summary("bare amqplib publish + confirm", publish), summary("bare amqplib basic.get + ack", get)];
}

const lines = [...(await measureAdapter()), ...(await measureBare())];
console.log(`${rounds} sequential rounds against ${new URL(rabbitUrl).host}`);
for (const line of lines) console.log(line);
