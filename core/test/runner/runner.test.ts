import { type KvWriteOptions, ManualClock, PlanNotFoundError, RunInputError, runKeys } from "@aat/core";
import { describe, expect, it } from "vitest";
import { makeEngine, shippedPlan } from "./harness.js";

const TOOLS_PLAN = `
id: test.tools
workflow: automation
title: Two tool calls and a set
steps:
  - id: first
    type: tool
    tool: test.count
    with: { label: "{% input.name %}" }
  - id: both
    type: parallel
    branches:
      - steps:
          - id: left
            type: tool
            tool: test.count
            with: { label: left }
      - steps:
          - id: right
            type: tool
            tool: test.count
            with: { label: right }
  - id: done
    type: set
    values: { labels: "{% [steps.first.output.label, steps.left.output.label, steps.right.output.label] %}" }
`;

describe("Runner", () => {
  it("runs the shipped hello plan to completion inline, without queue round trips", async () => {
    const { runner, queue } = await makeEngine([shippedPlan("automation/hello.yaml")]);
    const { state } = await runner.start({ planId: "automation.hello", input: { names: ["Ada", "Grace"] } });
    expect(state.status).toBe("succeeded");
    expect(state.output).toEqual({
      greetings: ["Hello, Ada.", "Hello, Grace."],
      summary: "Greeted 2 people, a small group; the longest name is Grace.",
    });
    expect(await queue.receive({ maxMessages: 10 })).toEqual([]);
    // The stored state (snapshot + log) is the same as the one returned.
    expect(await runner.load(state.runId)).toEqual(state);
  });

  it("keeps run data unchanged by expressions: JSONata's array flags never land on run input or outputs", async () => {
    // `x[]` makes JSONata write `keepSingleton` onto the array it returns. The arrays here come from the
    // run input, a set step's output and a parallel step's results (an array the decider builds).
    const plan = `
id: test.frozen
workflow: automation
title: Expressions over arrays in run data
steps:
  - id: early
    type: set
    values: { input: "{% input.names[] %}" }
  - id: fan
    type: parallel
    branches:
      - steps: [{ id: only, type: set, values: { v: 1 } }]
  - id: made
    type: set
    values: { names: "{% input.names %}" }
  - id: read
    type: set
    values:
      results: "{% steps.fan.output[] %}"
      names: "{% steps.made.output.names[] %}"
      input: "{% input.names[] %}"
      count: "{% $count(steps.fan.output) + steps.fan.output[0].v %}"
`;
    const { runner } = await makeEngine([plan]);
    const { state } = await runner.start({ planId: "test.frozen", input: { names: ["Ada"] } });
    expect(state.status).toBe("succeeded");
    expect(state.steps.read?.output).toEqual({
      results: [{ v: 1 }],
      names: ["Ada"],
      input: ["Ada"],
      count: 2,
    });
    for (const array of [
      state.steps.fan?.output,
      state.steps.made?.output,
      (state.input as { names: unknown }).names,
    ]) {
      const value = array as unknown[] | { names: unknown[] };
      const list = Array.isArray(value) ? value : value.names;
      expect(Object.keys(list)).toEqual(["0"]);
    }
    expect(await runner.load(state.runId)).toEqual(state);
  });

  it("executes tool steps through the queue, each effect once, and finishes the run", async () => {
    const { runner, worker, effects } = await makeEngine([TOOLS_PLAN]);
    const { runId, state } = await runner.start({ planId: "test.tools", input: { name: "x" } });
    expect(state.status).toBe("running");
    expect(state.steps.first?.status).toBe("queued");
    await worker.drain();
    const final = await runner.load(runId);
    expect(final?.status).toBe("succeeded");
    expect(final?.output).toEqual({ labels: ["x", "left", "right"] });
    expect([...effects.values()]).toEqual([1, 1, 1]);
    const log = await runner.store.listLog(runId);
    expect(log.map((e) => e.event.type)).toContain("step.started");
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
  });

  it("is idempotent on runId: a second start returns the first run", async () => {
    const { runner } = await makeEngine([shippedPlan("automation/hello.yaml")]);
    const first = await runner.start({ planId: "automation.hello", runId: "fixed-id" });
    const second = await runner.start({
      planId: "automation.hello",
      runId: "fixed-id",
      input: { names: ["Z"] },
    });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.state).toEqual(first.state);
  });

  it("applies each effect once when every queue message is delivered twice", async () => {
    const { runner, worker, queue, effects } = await makeEngine([TOOLS_PLAN]);
    const publish = queue.publish.bind(queue);
    // Duplicate every publish with no broker dedupe id, as an at-least-once broker may.
    queue.publish = async (body, options) => {
      const { dedupeId: _drop, ...rest } = options ?? {};
      await publish(body, rest);
      return publish(body, rest);
    };
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => runner.start({ planId: "test.tools", input: { name: `r${i}` } })),
    );
    await worker.drain();
    for (const { runId } of runs) expect((await runner.load(runId))?.status).toBe("succeeded");
    expect(effects.size).toBe(30);
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
  });

  it("rejects input that does not match the plan's inputs schema, storing nothing", async () => {
    const { runner, kv } = await makeEngine([shippedPlan("automation/hello.yaml")]);
    await expect(runner.start({ planId: "automation.hello", input: { names: [""] } })).rejects.toThrow(
      RunInputError,
    );
    await expect(runner.start({ planId: "automation.hello", input: { names: [""] } })).rejects.toThrow(
      /input does not match the inputs schema of plan "automation.hello": names\.0: /,
    );
    expect((await kv.list(runKeys.snapshotPrefix)).entries).toEqual([]);
  });

  it("checks input again unless the caller checked it against the very version it names", async () => {
    const { runner } = await makeEngine([shippedPlan("automation/hello.yaml")]);
    const bad = { planId: "automation.hello", input: { names: [""] }, inputChecked: true };
    // No version named: the caller cannot have checked against the one the runner picks.
    await expect(runner.start(bad)).rejects.toThrow(RunInputError);
    await expect(runner.start({ ...bad, version: 1, inputChecked: false })).rejects.toThrow(RunInputError);
    // Vouched for with the version: taken as checked (the API checked it for its 422 answer).
    const started = await runner.start({ ...bad, version: 1, runId: "checked-by-caller" });
    expect(started.created).toBe(true);
  });

  it("reports an unknown plan or version clearly", async () => {
    const { runner } = await makeEngine([shippedPlan("automation/hello.yaml")]);
    await expect(runner.start({ planId: "nope" })).rejects.toThrow(PlanNotFoundError);
    await expect(runner.start({ planId: "automation.hello", version: 9 })).rejects.toThrow(
      'plan "automation.hello" has no version 9',
    );
  });

  it("waits for an approval and continues when it is granted", async () => {
    const plan = `
id: test.approve
workflow: alerts
title: Approve then act
steps:
  - id: ask
    type: approval
    approvers: [role:responder]
    message: "Contain host {% input.host %}?"
  - id: act
    type: tool
    tool: test.count
    with: { label: contained }
`;
    const { runner, worker, effects } = await makeEngine([plan]);
    const { runId, state } = await runner.start({ planId: "test.approve", input: { host: "web-1" } });
    expect(state.status).toBe("waiting");
    expect(state.steps.ask?.status).toBe("waiting_approval");
    expect(state.steps.ask?.approval?.request.message).toBe("Contain host web-1?");
    const decision = await runner.approve(runId, "ask", "user:alice", "confirmed malicious");
    expect(decision.state.steps.ask?.status).toBe("approved");
    await worker.drain();
    expect((await runner.load(runId))?.status).toBe("succeeded");
    expect(effects.size).toBe(1);
  });

  it("fails the run when an approval is rejected and the plan has no onReject", async () => {
    const plan = `
id: test.reject
workflow: alerts
title: Approve then act
steps:
  - id: ask
    type: approval
  - id: act
    type: set
    values: { x: 1 }
`;
    const { runner } = await makeEngine([plan]);
    const { runId } = await runner.start({ planId: "test.reject" });
    const { state } = await runner.reject(runId, "ask", "user:bob", "false positive");
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe("approval_rejected");
    expect(state.steps.act).toBeUndefined();
  });

  it("fires a wait step's timer through the queue", async () => {
    const clock = new ManualClock();
    const plan = `
id: test.wait
workflow: automation
title: Wait a minute
steps:
  - id: pause
    type: wait
    duration: 1m
  - id: after
    type: set
    values: { ok: true }
`;
    const { runner, worker } = await makeEngine([plan], { clock });
    const { runId } = await runner.start({ planId: "test.wait" });
    await worker.drain();
    expect((await runner.load(runId))?.status).toBe("waiting");
    clock.advance(61_000);
    await worker.drain();
    const final = await runner.load(runId);
    expect(final?.status).toBe("succeeded");
    expect(final?.output).toEqual({ ok: true });
  });

  it("runs a sub-plan as a child run and continues the parent with its output", async () => {
    const child = `
id: test.child
workflow: automation
title: Child
steps:
  - id: work
    type: tool
    tool: test.count
    with: { label: "{% input.label %}" }
outputs: { got: "{% steps.work.output.label %}" }
`;
    const parent = `
id: test.parent
workflow: automation
title: Parent
steps:
  - id: sub
    type: plan
    plan: test.child
    input: { label: "{% input.label %}" }
  - id: after
    type: set
    values: { fromChild: "{% steps.sub.output.got %}" }
`;
    const { runner, worker } = await makeEngine([child, parent]);
    const { runId } = await runner.start({ planId: "test.parent", input: { label: "deep" } });
    await worker.drain();
    const final = await runner.load(runId);
    expect(final?.status).toBe("succeeded");
    expect(final?.output).toEqual({ fromChild: "deep" });
    const childId = final?.steps.sub?.childRunId;
    expect((await runner.load(childId!))?.parent?.runId).toBe(runId);
  });

  it("retries a failing tool with backoff through a delayed message, then succeeds", async () => {
    const clock = new ManualClock();
    let failures = 2;
    const flaky = {
      name: "test.flaky",
      description: "Fails twice",
      input: (await import("zod")).z.object({}),
      async run() {
        if (failures-- > 0) throw new Error("upstream 503");
        return { ok: true };
      },
    };
    const plan = `
id: test.retry
workflow: automation
title: Retry
steps:
  - id: call
    type: tool
    tool: test.flaky
    retry: { max: 3, backoff: fixed, initial: 10s, jitter: false }
`;
    const { runner, worker } = await makeEngine([plan], { clock, tools: [flaky] });
    const { runId } = await runner.start({ planId: "test.retry" });
    await worker.drain();
    let state = await runner.load(runId);
    expect(state?.steps.call?.status).toBe("retrying");
    expect(state?.steps.call?.attempt).toBe(2);
    await worker.drain();
    expect((await runner.load(runId))?.steps.call?.attempt).toBe(2);
    for (let i = 0; i < 2; i++) {
      clock.advance(10_000);
      await worker.drain();
    }
    state = await runner.load(runId);
    expect(state?.status).toBe("succeeded");
    expect(state?.steps.call?.attempt).toBe(3);
  });

  it("cancels a run: pending steps are cancelled and their late messages ignored", async () => {
    const { runner, worker, effects } = await makeEngine([TOOLS_PLAN]);
    const { runId } = await runner.start({ planId: "test.tools", input: { name: "x" } });
    const { state } = await runner.cancel(runId, "user:alice", "not needed");
    expect(state.status).toBe("cancelled");
    expect(state.steps.first?.status).toBe("cancelled");
    await worker.drain();
    expect(effects.size).toBe(0);
  });

  it("stays correct when two runners append to the same runs concurrently (lost appends reload and decide again)", async () => {
    const wide = `
id: test.wide
workflow: automation
title: Four tool calls at once
steps:
  - id: fan
    type: parallel
    branches:
      - steps: [{ id: a, type: tool, tool: test.count, with: { label: a } }]
      - steps: [{ id: b, type: tool, tool: test.count, with: { label: b } }]
      - steps: [{ id: c, type: tool, tool: test.count, with: { label: c } }]
      - steps: [{ id: d, type: tool, tool: test.count, with: { label: d } }]
  - id: done
    type: set
    values: { n: "{% $count(steps.fan.output) %}" }
`;
    const one = await makeEngine([wide]);
    // A second runner and worker on the same stores, as a second process would be.
    const { createRunner, Worker } = await import("@aat/core");
    const second = createRunner({
      kv: one.kv,
      queue: one.queue,
      plans: one.repo,
      services: { tools: one.tools },
    });
    const secondWorker = new Worker(second, one.queue, { concurrency: 4 });
    let conflicts = 0;
    let calls = 0;
    const setIfAbsent = one.kv.setIfAbsent.bind(one.kv);
    one.kv.setIfAbsent = (async (key: string, value: unknown, options?: KvWriteOptions) => {
      const result = await setIfAbsent(key, value, options);
      if (!result.ok && key.startsWith("runlog/")) conflicts++;
      calls++;
      return result;
    }) as typeof one.kv.setIfAbsent;
    // Let reads take a macrotask, as a network store would, so the two workers' loads interleave.
    const getMany = one.kv.getMany.bind(one.kv);
    one.kv.getMany = async (keys) => {
      const result = await getMany(keys);
      await new Promise((resolve) => setImmediate(resolve));
      return result as never;
    };
    // Started one after another, so each run's four step messages sit together in the queue and the
    // workers pick up steps of the same run at the same time.
    const runs = [];
    for (let i = 0; i < 20; i++)
      runs.push(await one.runner.start({ planId: "test.wide", runId: `wide-${i}` }));
    await Promise.all([one.worker.drain(), secondWorker.drain()]);
    await Promise.all([one.worker.drain(), secondWorker.drain()]);
    for (const { runId } of runs) {
      const state = await one.runner.load(runId);
      expect(state?.status).toBe("succeeded");
      expect(state?.output).toEqual({ n: 4 });
      // A third reader rebuilding from the log alone reaches the same state.
      expect(await second.load(runId)).toEqual(state);
    }
    expect(one.effects.size).toBe(80);
    expect([...one.effects.values()].every((n) => n === 1)).toBe(true);
    expect(calls).toBeGreaterThan(0);
    expect(conflicts).toBeGreaterThan(0);
  });
});
