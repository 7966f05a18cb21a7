import { MemoryKeyValue } from "@aat/adapter-memory";
import { newRunId, type RunEvent, RunStore, runKeys } from "@aat/core";
import { describe, expect, it } from "vitest";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function event(n: number): RunEvent {
  return { type: "timer.fired", timerId: `t${n}`, at: n };
}

/** A KeyValue that counts reads, to show how many round trips catching up takes. */
class CountingKeyValue extends MemoryKeyValue {
  reads = 0;
  override get: MemoryKeyValue["get"] = (key) => {
    this.reads++;
    return super.get(key);
  };
  override getMany: MemoryKeyValue["getMany"] = (keys) => {
    this.reads++;
    return super.getMany(keys);
  };
}

describe("RunStore.readLog", () => {
  it.each([0, 1, 2, 3, 4, 7, 8, 63, 64, 65, 200])(
    "returns all %i events after the start, in order",
    async (count) => {
      const store = new RunStore(new MemoryKeyValue());
      for (let seq = 1; seq <= count + 5; seq++) await store.append("r", seq, event(seq));
      const events = await store.readLog("r", 6);
      expect(events).toEqual(Array.from({ length: count }, (_, i) => event(6 + i)));
    },
  );

  it("stops at the first gap", async () => {
    const store = new RunStore(new MemoryKeyValue());
    for (const seq of [1, 2, 3, 5, 6]) await store.append("r", seq, event(seq));
    expect(await store.readLog("r", 1)).toEqual([event(1), event(2), event(3)]);
    expect(await store.readLog("r", 4)).toEqual([]);
  });

  it("costs one read when the log has nothing or one event new, and grows its batches while the log goes on", async () => {
    const kv = new CountingKeyValue();
    const store = new RunStore(kv);
    for (let seq = 1; seq <= 40; seq++) await store.append("r", seq, event(seq));
    kv.reads = 0;
    expect(await store.readLog("r", 41)).toEqual([]);
    expect(kv.reads).toBe(1);
    kv.reads = 0;
    expect(await store.readLog("r", 40)).toEqual([event(40)]);
    expect(kv.reads).toBe(1);
    kv.reads = 0;
    expect(await store.readLog("r", 1)).toHaveLength(40);
    // 2 keys, then 4, 8, 16 and 32 (the last batch holds the gap): 5 reads instead of 40.
    expect(kv.reads).toBe(5);
  });
});

describe("newRunId", () => {
  it("is a UUID version 7 carrying the time in its first 48 bits", () => {
    const at = Date.UTC(2040, 0, 1, 12, 0, 0);
    const id = newRunId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it("increases strictly, also many times within one millisecond and when the clock steps back", () => {
    const at = Date.UTC(2041, 0, 1);
    const ids = [
      ...Array.from({ length: 10_000 }, () => newRunId(at)),
      newRunId(at - 5_000),
      newRunId(at + 60_000),
    ];
    for (const id of ids) expect(id).toMatch(UUID_V7);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("puts the keys of runs started close together next to each other", () => {
    const first = newRunId(Date.UTC(2042, 0, 1));
    const second = newRunId(Date.UTC(2042, 0, 1, 0, 0, 1));
    const later = newRunId(Date.UTC(2042, 0, 2));
    const keys = [
      runKeys.log(later, 1),
      runKeys.log(first, 2),
      runKeys.log(second, 1),
      runKeys.log(first, 1),
    ];
    expect(keys.sort()).toEqual([
      runKeys.log(first, 1),
      runKeys.log(first, 2),
      runKeys.log(second, 1),
      runKeys.log(later, 1),
    ]);
  });
});
