import { readFileSync } from "node:fs";
import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  type Clock,
  createRunner,
  KvPlanRepository,
  type Runner,
  type Tool,
  ToolRegistry,
  Worker,
  type WorkMessage,
} from "@aat/core";
import { z } from "zod";

/** One engine on memory adapters, with a counting tool whose effects tests can inspect. */
export async function makeEngine(
  plans: string[],
  options: { clock?: Clock; tools?: Tool[]; maxDeliveries?: number } = {},
) {
  const kv = new MemoryKeyValue();
  const queue = new MemoryQueue<WorkMessage>({
    name: `runner-test-${crypto.randomUUID()}`,
    visibilityTimeoutMs: 60_000,
    maxDeliveries: options.maxDeliveries ?? 5,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  /** Effects applied, by idempotency key. */
  const effects = new Map<string, number>();
  const calls: string[] = [];
  const counter: Tool<{ label: string }, { label: string; count: number }> = {
    name: "test.count",
    description: "Counts its calls per idempotency key",
    input: z.object({ label: z.string() }),
    output: z.object({ label: z.string(), count: z.number() }),
    async run(input, ctx) {
      calls.push(ctx.idempotencyKey);
      const count = (effects.get(ctx.idempotencyKey) ?? 0) + 1;
      effects.set(ctx.idempotencyKey, count);
      return { label: input.label, count };
    },
  };
  const tools = new ToolRegistry([counter, ...(options.tools ?? [])]);
  const repo = new KvPlanRepository(kv, { tools });
  for (const plan of plans) await repo.publish(plan);
  const runner: Runner = createRunner({
    kv,
    queue,
    plans: repo,
    services: { tools },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const worker = new Worker(runner, queue, { concurrency: 4 });
  return { kv, queue, runner, worker, effects, calls, repo, tools };
}

export function shippedPlan(path: string): string {
  return readFileSync(new URL(`../../../plans/${path}`, import.meta.url), "utf8");
}
