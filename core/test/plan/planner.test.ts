import { describe, expect, it } from "vitest";
import { KvPlanRepository, Planner, type PlanRepository } from "../../src/index.js";
import { MapKeyValue } from "./support.js";

function plan(id: string, workflow: string, match: string): string {
  return [
    `id: ${id}`,
    `workflow: ${workflow}`,
    `title: ${id}`,
    "match:",
    match,
    "steps:",
    "  - { id: a, type: set, values: {} }",
    "",
  ].join("\n");
}

async function repoWith(...plans: string[]): Promise<KvPlanRepository> {
  const repo = new KvPlanRepository(new MapKeyValue());
  for (const text of plans) await repo.publish(text);
  return repo;
}

const highAlert = { alert: { severity: "high", source: { ip: "203.0.113.9" } } };

describe("Planner", () => {
  it("evaluates `when` over the input's own fields, `input` and `event`", async () => {
    const repo = await repoWith(
      plan(
        "alerts.triage",
        "alerts",
        "  - event: alert.received\n    when: alert.severity in ['high', 'critical']",
      ),
      plan(
        "alerts.by-input",
        "alerts",
        "  - when: input.alert.severity = 'low' and event = 'alert.received'",
      ),
    );
    const planner = new Planner(repo);
    const high = await planner.match({ workflow: "alerts", event: "alert.received", input: highAlert });
    expect(high).toMatchObject({ ok: true, rule: 0, plan: { definition: { id: "alerts.triage" } } });
    const low = await planner.match({ event: "alert.received", input: { alert: { severity: "low" } } });
    expect(low).toMatchObject({ ok: true, plan: { definition: { id: "alerts.by-input" } } });
  });

  it("prefers higher priority over specificity", async () => {
    const repo = await repoWith(
      plan("a.specific", "alerts", "  - event: alert.received\n    when: alert.severity = 'high'"),
      plan("z.catch-all", "alerts", "  - priority: 10"),
    );
    const result = await new Planner(repo).match({ event: "alert.received", input: highAlert });
    expect(result).toMatchObject({ ok: true, plan: { definition: { id: "z.catch-all" } } });
  });

  it("at equal priority prefers event+when, then event only, then when only, then neither", async () => {
    const rules = {
      both: "  - event: alert.received\n    when: alert.severity = 'high'",
      event: "  - event: alert.received",
      when: "  - when: alert.severity = 'high'",
      none: "  - priority: 0",
    };
    const ids = { both: "d.both", event: "c.event", when: "b.when", none: "a.none" };
    const order: string[] = [];
    let remaining = Object.keys(rules) as Array<keyof typeof rules>;
    while (remaining.length) {
      const repo = await repoWith(...remaining.map((k) => plan(ids[k], "alerts", rules[k])));
      const result = await new Planner(repo).match({ event: "alert.received", input: highAlert });
      if (!result.ok) throw new Error(result.reason);
      order.push(result.plan.definition.id);
      remaining = remaining.filter((k) => ids[k] !== result.plan.definition.id);
    }
    expect(order).toEqual(["d.both", "c.event", "b.when", "a.none"]);
  });

  it("breaks remaining ties by plan id ascending, then by rule order", async () => {
    const repo = await repoWith(
      plan("b.plan", "automation", "  - event: tick"),
      plan("a.plan", "automation", "  - event: other\n  - event: tick\n  - event: tick"),
      plan("c.plan", "automation", "  - event: tick"),
    );
    const result = await new Planner(repo).match({ event: "tick", input: {} });
    expect(result).toMatchObject({ ok: true, rule: 1, plan: { definition: { id: "a.plan" } } });
  });

  it("only considers plans of the requested workflow", async () => {
    const repo = await repoWith(
      plan("alerts.any", "alerts", "  - event: tick\n    priority: 100"),
      plan("automation.tick", "automation", "  - event: tick"),
    );
    const result = await new Planner(repo).match({ workflow: "automation", event: "tick", input: {} });
    expect(result).toMatchObject({ ok: true, plan: { definition: { id: "automation.tick" } } });
  });

  it("explains a miss: the event, the workflow and how many plans were considered", async () => {
    const repo = await repoWith(
      plan("alerts.triage", "alerts", "  - event: alert.received\n    when: alert.severity = 'critical'"),
      plan("alerts.other", "alerts", "  - event: alert.closed"),
      plan("chat.any", "chat", "  - priority: 0"),
    );
    const planner = new Planner(repo);
    expect(await planner.match({ workflow: "alerts", event: "alert.received", input: highAlert })).toEqual({
      ok: false,
      reason:
        'no plan matches event "alert.received" in workflow "alerts" (2 plans considered); add a match rule for it to a plan, or start a plan by id',
      candidates: ["alerts.other", "alerts.triage"],
    });
    expect(await planner.match({ workflow: "coding", input: {} })).toEqual({
      ok: false,
      reason:
        'no plan matches a request without event in workflow "coding" (0 plans considered); add a match rule for it to a plan, or start a plan by id',
      candidates: [],
    });
  });

  it("never matches a plan without match rules, and treats a failing `when` as false", async () => {
    const repo = await repoWith(
      plan("a.manual", "automation", "  []").replace("match:\n  []", "match: []"),
      plan("b.throws", "automation", "  - when: $error('boom')"),
    );
    const result = await new Planner(repo).match({ event: "tick", input: {} });
    expect(result).toMatchObject({ ok: false, candidates: ["a.manual", "b.throws"] });
  });

  it("follows the current version of each plan", async () => {
    const repo = await repoWith(plan("demo.versioned", "automation", "  - event: old"));
    const planner = new Planner(repo);
    expect((await planner.match({ event: "old", input: {} })).ok).toBe(true);
    await repo.publish(plan("demo.versioned", "automation", "  - event: new"));
    expect((await planner.match({ event: "old", input: {} })).ok).toBe(false);
    const result = await planner.match({ event: "new", input: {} });
    expect(result).toMatchObject({ ok: true, plan: { version: 2 } });
  });

  it("reads and compiles each plan version once", async () => {
    const inner = await repoWith(plan("demo.cached", "automation", "  - event: tick\n    when: input.n > 1"));
    const reads: string[] = [];
    const counting: PlanRepository = {
      list: () => inner.list(),
      versions: (id) => inner.versions(id),
      get: (id, version) => {
        reads.push(`${id}@${version}`);
        return inner.get(id, version);
      },
    };
    const planner = new Planner(counting);
    expect((await planner.match({ event: "tick", input: { n: 2 } })).ok).toBe(true);
    expect((await planner.match({ event: "tick", input: { n: 0 } })).ok).toBe(false);
    expect((await planner.match({ event: "tick", input: { n: 5 } })).ok).toBe(true);
    expect(reads).toEqual(["demo.cached@1"]);
  });
});
