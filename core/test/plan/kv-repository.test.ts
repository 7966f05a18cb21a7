import { describe, expect, it } from "vitest";
import { KvPlanRepository, loadPlanFile, ManualClock, PlanLoadFailure } from "../../src/index.js";
import { allNodeTypes, fixture, MapKeyValue, tools } from "./support.js";

function plan(id: string, title: string, extra = ""): string {
  return `id: ${id}\nversion: 1\nworkflow: automation\ntitle: ${title}\nsteps:\n  - id: a\n    type: set\n    values: { title: ${JSON.stringify(title)} }\n${extra}`;
}

describe("KvPlanRepository", () => {
  it("publishes version N+1, overwrites the file's version and keeps old versions readable", async () => {
    const kv = new MapKeyValue();
    const clock = new ManualClock(1_000);
    const repo = new KvPlanRepository(kv, { nodeTypes: allNodeTypes, clock });

    const first = await repo.publish(plan("demo.x", "First"), { publishedBy: "user:ada" });
    clock.advance(500);
    const second = await repo.publish(plan("demo.x", "Second").replace("version: 1", "version: 9"));
    expect(first).toMatchObject({ id: "demo.x", version: 1, unchanged: false, publishedAt: 1_000 });
    expect(second).toMatchObject({ id: "demo.x", version: 2, unchanged: false, publishedAt: 1_500 });

    const current = await repo.get("demo.x");
    expect(current?.version).toBe(2);
    expect(current?.definition.version).toBe(2);
    expect(current?.definition.title).toBe("Second");
    // The stored source says the version it was given, not the 9 the file claimed.
    expect(current?.source).toContain("version: 2\n");
    expect(current?.origin).toBe("kv");
    const reloaded = loadPlanFile(current!.source, { file: "stored.yaml" });
    expect(reloaded.ok && reloaded.definition).toEqual(current?.definition);

    const old = await repo.get("demo.x", 1);
    expect(old).toMatchObject({ version: 1, publishedAt: 1_000, publishedBy: "user:ada" });
    expect(old?.definition.title).toBe("First");
    expect(await repo.get("demo.x", 3)).toBeUndefined();
    expect(await repo.get("nope")).toBeUndefined();
    expect(await repo.get("../etc")).toBeUndefined();

    const history = await repo.versions("demo.x");
    expect(history.map((v) => [v.version, v.publishedAt, v.publishedBy])).toEqual([
      [1, 1_000, "user:ada"],
      [2, 1_500, undefined],
    ]);
    expect(history[0]!.hash).not.toBe(history[1]!.hash);
    expect([...kv.data.keys()].sort()).toEqual([
      "plan-heads/demo.x",
      "plans/demo.x/v/0000000001",
      "plans/demo.x/v/0000000002",
    ]);
  });

  it("writes the assigned version into a source that had none, touching nothing else", async () => {
    const repo = new KvPlanRepository(new MapKeyValue());
    const text =
      "# a comment that stays\nid: demo.noversion  # trailing\nworkflow: automation\ntitle: t\nsteps:\n  - { id: a, type: set, values: {} }\n";
    await repo.publish(text);
    const stored = await repo.get("demo.noversion");
    expect(stored?.source).toBe(
      "# a comment that stays\nid: demo.noversion  # trailing\nversion: 1\nworkflow: automation\ntitle: t\nsteps:\n  - { id: a, type: set, values: {} }\n",
    );
  });

  it("reports re-publishing the current content as unchanged without a new version", async () => {
    const repo = new KvPlanRepository(new MapKeyValue());
    await repo.publish(plan("demo.y", "Same"));
    const again = await repo.publish(plan("demo.y", "Same").replace("version: 1", "version: 7"));
    expect(again).toMatchObject({ version: 1, unchanged: true });
    expect(await repo.versions("demo.y")).toHaveLength(1);

    // Going back to older content is a change: it becomes a new version.
    await repo.publish(plan("demo.y", "Other"));
    const back = await repo.publish(plan("demo.y", "Same"));
    expect(back).toMatchObject({ version: 3, unchanged: false });
  });

  it("gives concurrent publishes distinct versions and loses none of them", async () => {
    const kv = new MapKeyValue();
    const repo = new KvPlanRepository(kv);
    const titles = Array.from({ length: 8 }, (_, i) => `Edit ${i}`);
    const results = await Promise.all(titles.map((t) => repo.publish(plan("demo.race", t))));

    expect(kv.conflicts).toBeGreaterThan(0);
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const stored = await Promise.all(results.map((r) => repo.get("demo.race", r.version)));
    // Each publisher finds its own content under the version it was given.
    expect(stored.map((s) => s?.definition.title)).toEqual(titles);
    expect((await repo.get("demo.race"))?.version).toBe(8);
    expect(await repo.list()).toEqual([
      { id: "demo.race", version: 8, workflow: "automation", title: expect.any(String), origin: "kv" },
    ]);
  });

  it("recovers when a publisher died after writing its version but before moving the head", async () => {
    const kv = new MapKeyValue();
    const repo = new KvPlanRepository(kv);
    await repo.publish(plan("demo.crash", "One"));
    // Simulate the crash: a second version exists, the head still says 1.
    const head = await kv.get("plan-heads/demo.crash");
    await repo.publish(plan("demo.crash", "Two"));
    await kv.set("plan-heads/demo.crash", head!.value);
    expect((await repo.get("demo.crash"))?.version).toBe(1);

    const next = await repo.publish(plan("demo.crash", "Three"));
    expect(next.version).toBe(3);
    expect((await repo.get("demo.crash"))?.definition.title).toBe("Three");
    expect((await repo.get("demo.crash", 2))?.definition.title).toBe("Two");
  });

  it("refuses an invalid plan with every error, and stores nothing", async () => {
    const kv = new MapKeyValue();
    const repo = new KvPlanRepository(kv, { nodeTypes: allNodeTypes, tools });
    const error = await repo
      .publish(fixture("many-errors.yaml"), { file: "many-errors.yaml" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(PlanLoadFailure);
    expect((error as PlanLoadFailure).errors).toHaveLength(14);
    expect((error as PlanLoadFailure).message.split("\n")[0]).toBe(
      'many-errors.yaml:4:1 colour: unknown key "colour"; allowed here: id, version, workflow, title, description, inputs, schemas, triggers, match, capabilities, steps, outputs',
    );
    expect(kv.data.size).toBe(0);
  });

  it("lists the current version of every plan, sorted by id", async () => {
    const repo = new KvPlanRepository(new MapKeyValue());
    await repo.publish(plan("b.plan", "B"));
    await repo.publish(plan("a.plan", "A", "description: the first\n"));
    await repo.publish(plan("a.plan", "A2", "description: the second\n"));
    expect(await repo.list()).toEqual([
      {
        id: "a.plan",
        version: 2,
        workflow: "automation",
        title: "A2",
        description: "the second",
        origin: "kv",
      },
      { id: "b.plan", version: 1, workflow: "automation", title: "B", origin: "kv" },
    ]);
  });
});
