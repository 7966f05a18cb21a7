import { type KvCompanionWrite, type KvWriteOptions, runKeys } from "@aat/core";
import { describe, expect, it } from "vitest";
import { makeEngine } from "./harness.js";

const PLAN = `
id: test.queued
workflow: automation
title: One queued tool step
steps:
  - id: first
    type: tool
    tool: test.count
    with: { label: "{% input.name %}" }
`;

/**
 * A KeyValue with setIfAbsentWith (as the Redis adapter has it), built here from setIfAbsent and sets,
 * counting the calls: the runner must store a new run through it in one call.
 */
async function engineWithBatchWrites() {
  const engine = await makeEngine([PLAN]);
  const { kv } = engine;
  const batches: Array<{ key: string; companions: string[] }> = [];
  Object.assign(kv, {
    async setIfAbsentWith(
      key: string,
      value: unknown,
      options: KvWriteOptions | undefined,
      companions: readonly KvCompanionWrite[],
    ) {
      batches.push({ key, companions: companions.map((c) => c.key) });
      const result = await kv.setIfAbsent(key, value, options);
      if (result.ok) for (const c of companions) await kv.set(c.key, c.value, c.options);
      return result;
    },
  });
  return { ...engine, batches };
}

describe("Runner.start on a KeyValue with setIfAbsentWith", () => {
  it("stores the first event, marker, index entry and the caller's records in one write, no snapshot", async () => {
    const { runner, kv, queue, batches } = await engineWithBatchWrites();
    const records = [{ key: "hooks/deliveries/x", value: { runId: "r-1" }, options: { ttlMs: 60_000 } }];
    const started = await runner.start({
      planId: "test.queued",
      input: { name: "a" },
      runId: "r-1",
      records,
    });
    expect(started.created).toBe(true);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.key).toBe(runKeys.log("r-1", 1));
    expect(batches[0]!.companions).toEqual([
      runKeys.active("r-1"),
      runKeys.index(started.state.startedAt, "r-1"),
      "hooks/deliveries/x",
    ]);
    // Only the step was published after it: no snapshot until the run changes; loading replays the log.
    expect(await kv.get(runKeys.snapshot("r-1"))).toBeUndefined();
    expect((await kv.get("hooks/deliveries/x"))?.value).toEqual({ runId: "r-1" });
    expect(await queue.receive({ maxMessages: 10 })).toHaveLength(1);
    expect(await runner.load("r-1")).toEqual(started.state);
  });

  it("writes nothing more when the run exists: a second start with the id finds it", async () => {
    const { runner, kv, batches } = await engineWithBatchWrites();
    await runner.start({ planId: "test.queued", input: { name: "a" }, runId: "r-2" });
    const again = await runner.start({
      planId: "test.queued",
      input: { name: "b" },
      runId: "r-2",
      records: [{ key: "hooks/deliveries/y", value: { runId: "r-2" } }],
    });
    expect(again.created).toBe(false);
    expect(again.state.input).toEqual({ name: "a" });
    expect(batches).toHaveLength(2);
    expect(await kv.get("hooks/deliveries/y")).toBeUndefined();
  });
});
