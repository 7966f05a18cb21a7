import { ChatContextRegistry, type ChatContextResolver, truncate } from "@aat/core";
import { describe, expect, it } from "vitest";
import { alice, makeChat } from "./support.js";

const big = (kind: string, size: number): ChatContextResolver => ({
  kind,
  description: `${kind} for tests`,
  async resolve(id) {
    return id === "missing" ? undefined : { title: `${kind} ${id}`, text: `${id}:`.padEnd(size, "x") };
  },
});

describe("chat context", () => {
  it("cuts text to the limit with a marker that says how much was left out", () => {
    const cut = truncate("a".repeat(500), 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut).toMatch(/…\[truncated: \d+ more characters\]$/);
    expect(truncate("short", 100)).toBe("short");
  });

  it("injects attached context into the system prompt, each item and the whole cut to size", async () => {
    const contexts = new ChatContextRegistry([big("alert", 5000), big("run", 300)]);
    const { chat, runner } = makeChat({
      contexts,
      contextLimits: { maxItemChars: 1000, maxTotalChars: 1500 },
    });
    const session = await chat.create(alice, {
      context: [
        { kind: "run", id: "r1" },
        { kind: "alert", id: "a1" },
        { kind: "alert", id: "a2" },
        { kind: "run", id: "missing" },
      ],
    });
    await chat.send(alice, session.id, "what happened?", () => undefined);
    const input = runner.started[0]!.input as { system: string; prompt: string; contextText: string };
    expect(input.prompt).toBe("what happened?");
    expect(input.system).toContain("## Context attached to this chat");
    expect(input.system).toContain("### run r1: run r1\nr1:xxx");
    // The 5000-character alert is cut to its item limit, the second one by what is left of the total.
    expect(input.system).toContain("### alert a1: alert a1");
    expect(input.system).toMatch(/…\[truncated: \d+ more characters\]/);
    expect(input.contextText.length).toBeLessThanOrEqual(1500 + 200);
    expect(input.system).toContain("### alert a2");
    expect(input.system).toContain("### run missing");
    expect(input.system).not.toContain("x".repeat(1000));
  });

  it("renders a real run and plan through the built-in resolvers", async () => {
    const { runContextResolver, planContextResolver } = await import("@aat/core");
    const run = runContextResolver({
      load: async (id) =>
        id === "r1"
          ? ({
              runId: "r1",
              plan: { id: "automation.hello", version: 2, workflow: "automation" },
              status: "failed",
              version: 4,
              input: { names: ["Ada"] },
              startedAt: 0,
              updatedAt: 1,
              steps: { greet: { key: "greet", stepId: "greet", status: "failed", attempt: 1 } },
              error: { message: "boom" },
            } as never)
          : undefined,
    });
    expect((await run.resolve("r1"))?.text).toContain("status: failed");
    expect((await run.resolve("r1"))?.text).toContain('error: {"message":"boom"}');
    expect(await run.resolve("nope")).toBeUndefined();
    const plan = planContextResolver({ get: async () => undefined });
    expect(await plan.resolve("x")).toBeUndefined();
  });
});
