import { ChatInputError, ChatSessionNotFoundError, ChatTurnInProgressError } from "@aat/core";
import { describe, expect, it } from "vitest";
import { alice, bob, makeChat } from "./support.js";

describe("chat sessions", () => {
  it("creates, lists newest first with cursor paging, renames and deletes", async () => {
    const { chat, clock } = makeChat();
    const created = [];
    for (let i = 1; i <= 5; i++) {
      clock.advance(1000);
      created.push(await chat.create(alice, { title: `chat ${i}` }));
    }
    await chat.create(bob, { title: "not alice's" });

    const first = await chat.list(alice, 2);
    expect(first.items.map((s) => s.title)).toEqual(["chat 5", "chat 4"]);
    const second = await chat.list(alice, 2, first.nextCursor);
    expect(second.items.map((s) => s.title)).toEqual(["chat 3", "chat 2"]);
    const third = await chat.list(alice, 2, second.nextCursor);
    expect(third.items.map((s) => s.title)).toEqual(["chat 1"]);
    expect(third.nextCursor).toBeUndefined();

    const renamed = await chat.update(alice, created[0]!.id, { title: "renamed" });
    expect(renamed.title).toBe("renamed");
    expect((await chat.get(alice, created[0]!.id)).session.title).toBe("renamed");

    await chat.delete(alice, created[1]!.id);
    await expect(chat.get(alice, created[1]!.id)).rejects.toBeInstanceOf(ChatSessionNotFoundError);
    expect((await chat.list(alice, 10)).items.map((s) => s.title)).toEqual([
      "chat 5",
      "chat 4",
      "chat 3",
      "renamed",
    ]);
  });

  it("keeps sessions private to their owner (admins may read them)", async () => {
    const { chat } = makeChat();
    const session = await chat.create(alice, {});
    await expect(chat.get(bob, session.id)).rejects.toBeInstanceOf(ChatSessionNotFoundError);
    await expect(chat.delete(bob, session.id)).rejects.toBeInstanceOf(ChatSessionNotFoundError);
    const admin = { id: "key:root", roles: ["admin" as const], via: "apiKey" as const };
    expect((await chat.get(admin, session.id)).session.id).toBe(session.id);
  });

  it("refuses a context kind nobody resolves, naming the field and the known kinds", async () => {
    const { chat } = makeChat();
    const error = await chat.create(alice, { context: [{ kind: "dataset", id: "d1" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(ChatInputError);
    expect(error.path).toBe("context[0].kind");
    expect(error.message).toContain('unknown context kind "dataset"');
  });

  it("rejects a cursor it did not issue as a 400 on query.cursor", async () => {
    const { chat } = makeChat();
    const error = await chat.list(alice, 5, "not-a-cursor").catch((e) => e);
    expect(error).toBeInstanceOf(ChatInputError);
    expect(error).toMatchObject({ status: 400, path: "query.cursor" });
  });

  it("stores the user message and the reply from the run's output, and deletes them with the session", async () => {
    const { chat, runner, kv } = makeChat({
      reply: () => ({ status: "succeeded", output: { text: "Hi!" } }),
    });
    const session = await chat.create(alice, {});
    const events: string[] = [];
    await chat.send(alice, session.id, "hello", (event) => {
      events.push(event.type === "delta" ? `delta:${event.text}` : event.type);
    });
    // Nothing streamed (the run answered at once): the reply comes as one delta before done.
    expect(events).toEqual(["turn", "delta:Hi!", "done"]);
    expect(runner.started[0]).toMatchObject({ planId: "chat.assistant", runId: `${session.id}~turn~1` });
    const { session: after, messages } = await chat.get(alice, session.id);
    expect(messages.map((m) => [m.seq, m.role, m.text, m.status])).toEqual([
      [1, "user", "hello", undefined],
      [2, "assistant", "Hi!", "succeeded"],
    ]);
    expect(after.pendingRunId).toBeUndefined();

    await chat.delete(alice, session.id);
    expect((await kv.list("chat/")).entries).toEqual([]);
  });

  it("answers 409 while a turn waits for an approval, and stores the reply once the run finishes", async () => {
    const { chat, runner } = makeChat({
      reply: () => ({
        status: "waiting",
        steps: {
          reply: {
            key: "reply",
            stepId: "reply",
            status: "waiting_approval",
            attempt: 1,
            approval: {
              request: { approvers: [], message: "Run human.ask?", proposal: { tool: "human.ask" } },
            },
          },
        },
      }),
    });
    const session = await chat.create(alice, {});
    const events: Array<Record<string, unknown>> = [];
    await chat.send(alice, session.id, "do something dangerous", (event) => {
      events.push(event);
    });
    const runId = `${session.id}~turn~1`;
    expect(events.map((e) => e.type)).toEqual(["turn", "approval", "done"]);
    expect(events[1]).toMatchObject({
      step: "reply",
      message: "Run human.ask?",
      approve: `/v1/runs/${encodeURIComponent(runId)}/steps/reply/approve`,
    });
    expect(events[2]).toMatchObject({ status: "waiting" });
    await expect(chat.begin(alice, session.id, "again")).rejects.toBeInstanceOf(ChatTurnInProgressError);

    runner.set(runId, { status: "succeeded", output: { text: "done after approval" } });
    const { messages, session: settled } = await chat.get(alice, session.id);
    expect(messages.at(-1)).toMatchObject({ role: "assistant", text: "done after approval", runId });
    expect(settled.pendingRunId).toBeUndefined();
    // Settling twice stores the reply once.
    expect((await chat.get(alice, session.id)).messages).toHaveLength(2);
  });

  it("stores a failed turn's reason as the reply and frees the session", async () => {
    const { chat } = makeChat({
      reply: () => ({ status: "failed", error: { message: 'model "default" failed with HTTP 401' } }),
    });
    const session = await chat.create(alice, {});
    await chat.send(alice, session.id, "hello", () => undefined);
    const { messages } = await chat.get(alice, session.id);
    expect(messages[1]).toMatchObject({ status: "failed" });
    expect(messages[1]!.text).toContain("HTTP 401");
    await chat.send(alice, session.id, "again", () => undefined);
  });
});
