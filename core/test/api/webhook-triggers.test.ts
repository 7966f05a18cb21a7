import { MemoryKeyValue } from "@aat/adapter-memory";
import { describe, expect, it } from "vitest";
import { WebhookTriggers } from "../../src/api/webhook-triggers.js";
import { KvPlanRepository } from "../../src/plan/kv-repository.js";
import type { PlanRepository } from "../../src/plan/repository.js";

function hookPlan(id: string, triggerId: string): string {
  return `
id: ${id}
workflow: alerts
title: Hook ${id}
triggers:
  - type: webhook
    id: ${triggerId}
steps:
  - id: echo
    type: set
    values: { got: "{% input.alert %}" }
`;
}

/** The plan repository in memory, counting how often the plan list is read. */
function countingPlans() {
  const repository = new KvPlanRepository(new MemoryKeyValue());
  let lists = 0;
  const plans: PlanRepository = {
    list: () => {
      lists++;
      return repository.list();
    },
    get: (id, version) => repository.get(id, version),
    versions: (id) => repository.versions(id),
  };
  return { repository, plans, lists: () => lists };
}

describe("WebhookTriggers", () => {
  it("reuses the plan list within maxAgeMs instead of reading it per delivery", async () => {
    const { repository, plans, lists } = countingPlans();
    await repository.publish(hookPlan("p.one", "hook-one"));
    const triggers = new WebhookTriggers(plans, 60_000);
    for (let delivery = 0; delivery < 20; delivery++) {
      expect(await triggers.find("hook-one")).toMatchObject({ found: true, triggerId: "hook-one" });
    }
    expect(lists()).toBe(1);
  });

  it("finds a trigger published elsewhere at once: a miss in the reused list reads it again", async () => {
    const { repository, plans, lists } = countingPlans();
    await repository.publish(hookPlan("p.one", "hook-one"));
    const triggers = new WebhookTriggers(plans, 60_000);
    await triggers.find("hook-one");
    await repository.publish(hookPlan("p.two", "hook-two"));
    expect(await triggers.find("hook-two")).toMatchObject({ found: true, triggerId: "hook-two" });
    expect(await triggers.find("nothing")).toEqual({ found: false });
    expect(lists()).toBe(3);
  });

  it("sees a changed trigger at once after invalidate, and after maxAgeMs without it", async () => {
    const { repository, plans } = countingPlans();
    await repository.publish(hookPlan("p.one", "hook-one"));
    const triggers = new WebhookTriggers(plans, 60_000);
    await triggers.find("hook-one");
    // Version 2 moves the plan's trigger to another id: the reused list still names version 1.
    await repository.publish(hookPlan("p.one", "hook-renamed"));
    expect(await triggers.find("hook-one")).toMatchObject({ found: true, plan: { version: 1 } });
    triggers.invalidate();
    expect(await triggers.find("hook-one")).toEqual({ found: false });

    const unreused = new WebhookTriggers(plans, 0);
    await repository.publish(hookPlan("p.one", "hook-one"));
    expect(await unreused.find("hook-one")).toMatchObject({ found: true, plan: { version: 3 } });
  });
});
