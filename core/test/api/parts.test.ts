import { MemoryKeyValue, MemoryQueue } from "@aat/adapter-memory";
import {
  dryRun,
  EnvSecrets,
  KvPlanRepository,
  loadPlanFile,
  ManualClock,
  type RunEvent,
  RunEventHub,
  secretEnvName,
  type WorkMessage,
} from "@aat/core";
import { describe, expect, it } from "vitest";

describe("EnvSecrets", () => {
  it("reads AAT_SECRET_<NAME> with the name upper-cased and other characters as _", async () => {
    expect(secretEnvName("github-hook.v2")).toBe("AAT_SECRET_GITHUB_HOOK_V2");
    const secrets = new EnvSecrets({ AAT_SECRET_GITHUB_HOOK_V2: "k", AAT_SECRET_EMPTY: "" });
    expect(await secrets.get("github-hook.v2")).toBe("k");
    expect(await secrets.get("empty")).toBeUndefined();
    expect(await secrets.get("absent")).toBeUndefined();
    expect(secrets.describe("absent")).toBe("environment variable AAT_SECRET_ABSENT");
  });
});

describe("RunEventHub", () => {
  const event: RunEvent = { type: "timer.fired", timerId: "wait:a:1", at: 0 };

  it("delivers a run's events to its listeners only, until they unsubscribe", () => {
    const hub = new RunEventHub();
    const seen: Array<[string, number]> = [];
    const stop = hub.subscribe("r1", (seq) => seen.push(["r1", seq]));
    hub.subscribe("r2", (seq) => seen.push(["r2", seq]));
    hub.publish("r1", 1, event);
    hub.publish("r3", 1, event);
    stop();
    hub.publish("r1", 2, event);
    expect(seen).toEqual([["r1", 1]]);
    expect(hub.watchedRuns).toBe(1);
  });

  it("keeps a throwing listener from failing the publisher or the other listeners", () => {
    const hub = new RunEventHub();
    const seen: number[] = [];
    hub.subscribe("r", () => {
      throw new Error("reader bug");
    });
    hub.subscribe("r", (seq) => seen.push(seq));
    expect(() => hub.publish("r", 4, event)).not.toThrow();
    expect(seen).toEqual([4]);
  });
});

describe("dryRun", () => {
  const child = `
id: demo.child
workflow: automation
title: Child
steps:
  - id: fetch
    type: tool
    tool: intel.lookup
    with: { ip: "{% input.ip %}" }
`;
  const parent = `
id: demo.parent
workflow: automation
title: Parent
steps:
  - id: each
    type: map
    items: input.ips
    steps:
      - id: score
        type: tool
        tool: intel.score
        with: { ip: "{% item %}" }
  - id: sub
    type: plan
    plan: demo.child
    input: { ip: "{% input.ips[0] %}" }
`;

  function scratch(clock: ManualClock) {
    const kv = new MemoryKeyValue({ clock });
    const queue = new MemoryQueue<WorkMessage>({ name: `dry-${crypto.randomUUID()}`, clock });
    return { kv, queue };
  }

  it("stubs by instance key before step id and tool name, runs sub-plans with stubs, and closes its stores", async () => {
    const clock = new ManualClock();
    const kv = new MemoryKeyValue({ clock });
    const plans = new KvPlanRepository(kv, { clock });
    await plans.publish(child);
    const loaded = loadPlanFile(parent, { file: "parent.yaml" });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("; "));
    const stores = scratch(clock);
    const result = await dryRun({
      definition: loaded.definition,
      input: { ips: ["10.0.0.1", "10.0.0.2"] },
      stubs: { "each[1]/score": { score: 99 }, "intel.score": { score: 1 }, fetch: { owner: "acme" } },
      scratch: stores,
      plans,
      clock,
    });
    expect(result.complete).toBe(true);
    expect(result.run.status).toBe("succeeded");
    expect(result.run.steps.each?.output).toEqual([{ score: 1 }, { score: 99 }]);
    expect(result.run.steps.sub?.output).toEqual({ owner: "acme" });
    expect(result.stubbed).toEqual([`${result.run.runId}~sub~1:fetch`, "each[0]/score", "each[1]/score"]);
    await expect(stores.queue.ping()).rejects.toThrow(/closed/);
  });
});
