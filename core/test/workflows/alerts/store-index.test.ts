import { MemoryKeyValue } from "@aat/adapter-memory";
import {
  type AlertRecord,
  AlertStore,
  alertQuerySchema,
  CountingAlertMetrics,
  ManualClock,
  queryAlerts,
  type RunState,
  TriageStatusHook,
} from "@aat/core";
import { describe, expect, it } from "vitest";

function record(id: string, time: number, status: AlertRecord["status"] = "new"): AlertRecord {
  return {
    alert: {
      class_uid: 2004,
      category_uid: 2,
      time,
      severity_id: 3,
      severity: "Medium",
      status: "New",
      title: `alert ${id}`,
      finding_info: { uid: id, types: [] },
      resources: [],
      observables: [],
      metadata: { product: { name: "test" }, version: "1.3.0" },
      raw: {},
      id,
      source: "s",
      format: "generic",
      fingerprint: `generic:${id}`,
      first_seen: time,
      last_seen: time,
      count: 1,
    },
    status,
    runs: [],
    related: [],
    notes: [],
    timeline: [],
    enrichment: {},
  };
}

const list = async (store: AlertStore, q: Record<string, string>) =>
  (await queryAlerts(store, alertQuerySchema.parse(q))).items.map((r) => r.alert.id);

describe("the alert index", () => {
  it("indexes alerts stored before it existed, once", async () => {
    const kv = new MemoryKeyValue();
    await kv.set("alerts/items/old-1", record("old-1", 1_000));
    await kv.set("alerts/items/old-2", record("old-2", 2_000, "resolved"));
    const store = new AlertStore(kv, new ManualClock(10_000));
    expect(await list(store, {})).toEqual(["old-2", "old-1"]);
    expect(await list(store, { status: "resolved" })).toEqual(["old-2"]);
    expect(await kv.get("alerts/index-ready")).toBeDefined();
  });

  it("moves an alert between status lists on update; an entry left behind is skipped, then deleted once old", async () => {
    const kv = new MemoryKeyValue();
    const clock = new ManualClock(10_000);
    const store = new AlertStore(kv, clock);
    await store.create(record("a", 1_000));
    await store.create(record("b", 2_000));
    await store.update("a", (r) => ({ ...r, status: "triaging" }));
    expect(await list(store, { status: "new" })).toEqual(["b"]);
    expect(await list(store, { status: "triaging" })).toEqual(["a"]);
    // A writer that crashed after writing the new entry but before the record: the entry is extra.
    await kv.set("alerts/index/status/resolved/9999999998999/a", { id: "a", at: clock.now() });
    expect(await list(store, { status: "resolved" })).toEqual([]);
    expect(await kv.get("alerts/index/status/resolved/9999999998999/a")).toBeDefined();
    clock.advance(11 * 60_000);
    expect(await list(store, { status: "resolved" })).toEqual([]);
    expect(await kv.get("alerts/index/status/resolved/9999999998999/a")).toBeUndefined();
    await store.delete("b");
    expect(await list(store, {})).toEqual(["a"]);
    expect((await kv.list("alerts/index/")).entries.map((e) => e.key).sort()).toEqual([
      "alerts/index/status/triaging/9999999998999/a",
      "alerts/index/time/9999999998999/a",
    ]);
  });
});

describe("the triage status hook", () => {
  it("records a triage run's end once, however often the runner reports it", async () => {
    const kv = new MemoryKeyValue();
    const clock = new ManualClock(10_000);
    const store = new AlertStore(kv, clock);
    await store.create(record("a-1", 1_000, "triaging"));
    const audited: string[] = [];
    const hook = new TriageStatusHook({
      kv,
      store,
      clock,
      metrics: new CountingAlertMetrics(),
      audit: async (entry) => {
        audited.push(entry.action);
      },
    });
    const state = {
      runId: "run-1",
      status: "succeeded",
      plan: { id: "alerts.triage", version: 1, workflow: "alerts" },
      input: { alert: { id: "a-1" } },
      output: { verdict: "benign" },
    } as unknown as RunState;
    // After a crash (or a failed first call) the runner reports the same end again.
    await hook.onRunFinished(state);
    await hook.onRunFinished(state);
    const stored = await store.get("a-1");
    expect(stored?.timeline.filter((entry) => entry.type === "triage_finished")).toHaveLength(1);
    expect(stored?.status).toBe("resolved");
    expect(audited).toEqual(["alert.triage_finished"]);
  });
});
