import { readFileSync } from "node:fs";
import { MemoryKeyValue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import { DedupeService } from "../../../src/dedupe/service.js";
import { systemClock } from "../../../src/ports/clock.js";
import type { KeyValue } from "../../../src/ports/kv.js";
import { type AlertsWorkflow, createAlertsWorkflow } from "../../../src/workflows/alerts/service.js";

const sample = readFileSync(new URL("../../../../examples/alerts/generic.json", import.meta.url));

/**
 * A replica whose fingerprint claims answer late: each call runs at once but its answer arrives `ms`
 * later, so the replica acts on what it read while the other replica moves on.
 */
function lagging(kv: KeyValue, ms: number): KeyValue {
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const answer = await value.apply(target, args);
        if (String(args[0]).includes("fingerprints")) await new Promise((resolve) => setTimeout(resolve, ms));
        return answer;
      };
    },
  });
}

async function setUp() {
  const kv = new MemoryKeyValue();
  let runs = 0;
  const replica = (store: KeyValue) =>
    createAlertsWorkflow({
      kv: store,
      clock: systemClock,
      dedupe: new DedupeService({ kv: store, clock: systemClock }),
      toleranceMs: 300_000,
      startTriage: async () => ({ runId: `run-${++runs}` }),
    });
  const workflow = replica(kv);
  const slow = replica(lagging(kv, 20));
  const { secret } = await workflow.sources.create({
    id: "edr",
    format: "generic",
    auth: { mode: "bearer" },
  });
  const deliverTo = (target: AlertsWorkflow) => () =>
    target.ingestor.ingest({
      sourceId: "edr",
      body: new Uint8Array(sample),
      header: (name) =>
        ({ "content-type": "application/json", authorization: `Bearer ${secret}` })[name.toLowerCase()],
    });
  return { workflow, deliver: deliverTo(workflow), deliverSlowly: deliverTo(slow), runs: () => runs };
}

describe("alert fingerprint claims", () => {
  it("merges an exact resend into the first alert", async () => {
    const { deliver, runs } = await setUp();
    const first = (await deliver()).alerts[0];
    const again = (await deliver()).alerts[0];
    expect(again).toMatchObject({ id: first?.id, duplicate: true });
    expect(runs()).toBe(1);
  });

  it("treats a resend of a deleted alert as new, once, even when a lagging replica races", async () => {
    const { workflow, deliver, deliverSlowly, runs } = await setUp();
    const first = (await deliver()).alerts[0];
    if (!first) throw new Error("the sample gave no alert");
    await workflow.store.delete(first.id);

    // The slow replica reads the old claim, then acts on it after the fast one has claimed again.
    const [a, b] = await Promise.all([deliverSlowly(), deliver()]);
    const ids = new Set([a.alerts[0]?.id, b.alerts[0]?.id]);
    expect(ids.size).toBe(1);
    expect(ids.has(first.id)).toBe(false);
    expect(runs()).toBe(2);
    const stored = [];
    for await (const record of workflow.store.all()) stored.push(record);
    expect(stored.map((r) => [r.alert.id, r.alert.count])).toEqual([[[...ids][0], 2]]);
  });
});
