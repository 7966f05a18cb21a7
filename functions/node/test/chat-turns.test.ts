import { rm } from "node:fs/promises";
import { ScriptedLlmServer } from "@aat/core/testing";
import type { NodeRuntime } from "@aat/functions-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ChatCall,
  eventuallyReply,
  readSse,
  scriptedChatModels,
  startChatRuntime,
} from "./chat-support.js";

describe("chat on the node runtime, model on the scripted OpenAI-compatible server", () => {
  let llm: ScriptedLlmServer;
  let runtime: NodeRuntime;
  let dataDir: string;
  let call: ChatCall;

  beforeAll(async () => {
    llm = await ScriptedLlmServer.start();
    ({ runtime, dataDir, call } = await startChatRuntime(scriptedChatModels(llm.openAiBaseUrl)));
  });

  afterAll(async () => {
    await runtime?.stop();
    await llm?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("streams the reply token by token over SSE, then stores it", async () => {
    const reply = "Run automation.hello greets names; it finished successfully.";
    llm.enqueue({ kind: "reply", text: reply, chunkSize: 6, usage: { inputTokens: 120, outputTokens: 14 } });
    const created = await call("POST", "/v1/chat/sessions", { title: "streaming" });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { id: string };

    const response = await call("POST", `/v1/chat/sessions/${session.id}/messages`, {
      text: "What does hello do?",
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = await readSse(response);

    expect(events[0]?.event).toBe("turn");
    const done = events.findIndex((e) => e.event === "done");
    expect(done).toBe(events.length - 1);
    const deltas = events.slice(0, done).filter((e) => e.event === "delta");
    // Token streaming: the reply arrived in several pieces, all of them before `done`.
    expect(deltas.length).toBeGreaterThanOrEqual(5);
    expect(deltas.map((d) => d.data.text).join("")).toBe(reply);
    expect(events[done]!.data).toMatchObject({
      status: "succeeded",
      message: { role: "assistant", text: reply, status: "succeeded" },
      // The provider's counts, from the agent step's durable progress record (not an estimate).
      usage: { inputTokens: 120, outputTokens: 14, totalTokens: 134 },
    });
    expect((events[done]!.data.usage as { estimated?: boolean }).estimated).toBeUndefined();

    // The model got the chat plan's system prompt and the message, and was asked to stream.
    const request = llm.requests.at(-1)!.body as {
      stream?: boolean;
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(request.stream).toBe(true);
    expect(JSON.stringify(request.messages)).toContain("You are the aat assistant");
    expect(JSON.stringify(request.messages)).toContain("What does hello do?");

    const detail = (await (await call("GET", `/v1/chat/sessions/${session.id}`)).json()) as {
      messages: Array<{ role: string; text: string }>;
      session: { pendingRunId?: string };
    };
    expect(detail.messages.map((m) => [m.role, m.text])).toEqual([
      ["user", "What does hello do?"],
      ["assistant", reply],
    ]);
    expect(detail.session.pendingRunId).toBeUndefined();
  });
  it("answers once as JSON with Accept: application/json, with the earlier turn in the prompt", async () => {
    const session = (await (await call("POST", "/v1/chat/sessions", {})).json()) as { id: string };
    llm.enqueue({ kind: "reply", text: "First answer." }, { kind: "reply", text: "Second answer." });
    const first = await call(
      "POST",
      `/v1/chat/sessions/${session.id}/messages`,
      { text: "one" },
      { accept: "application/json" },
    );
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toContain("application/json");
    expect(await first.json()).toMatchObject({ status: "succeeded", message: { text: "First answer." } });
    const second = await call(
      "POST",
      `/v1/chat/sessions/${session.id}/messages`,
      { text: "two" },
      { accept: "application/json" },
    );
    const body = (await second.json()) as { message: { text: string; seq: number }; runId: string };
    expect(body.message).toMatchObject({ text: "Second answer.", seq: 4 });
    expect(JSON.stringify(llm.requests.at(-1)!.body)).toContain("Assistant: First answer.");
    // The turn is a run of the chat plan like any other.
    const run = (await (await call("GET", `/v1/runs/${encodeURIComponent(body.runId)}`)).json()) as {
      run: { plan: { id: string; workflow: string }; status: string };
    };
    expect(run.run).toMatchObject({ plan: { id: "chat.assistant", workflow: "chat" }, status: "succeeded" });
  });
  it("relays tool calls and results, stops for a dangerous tool's approval and stores the reply after it", async () => {
    llm.enqueue(
      {
        kind: "reply",
        toolCalls: [
          {
            id: "call_1",
            name: "plan_run",
            input: { planId: "automation.hello", input: { names: ["Ada"] } },
          },
        ],
      },
      {
        kind: "reply",
        toolCalls: [{ id: "call_2", name: "human_ask", input: { question: "Notify the on-call team?" } }],
      },
      { kind: "reply", text: "Started the run; the on-call team was asked and agreed." },
    );
    const session = (await (await call("POST", "/v1/chat/sessions", {})).json()) as { id: string };
    const events = await readSse(
      await call("POST", `/v1/chat/sessions/${session.id}/messages`, { text: "Greet Ada, then ask on-call" }),
    );
    const types = events.map((e) => e.event);
    expect(types).toEqual(["turn", "tool-call", "tool-result", "tool-call", "approval", "done"]);
    expect(events[1]!.data).toMatchObject({ name: "plan.run", input: { planId: "automation.hello" } });
    expect(events[2]!.data).toMatchObject({ name: "plan.run", output: { status: expect.any(String) } });
    expect(events[3]!.data).toMatchObject({ name: "human.ask" });
    const approval = events[4]!.data as { approve: string; runId: string };
    expect(events[5]!.data).toMatchObject({ status: "waiting" });

    // The session is busy until the approval is decided.
    expect((await call("POST", `/v1/chat/sessions/${session.id}/messages`, { text: "hello?" })).status).toBe(
      409,
    );
    expect((await call("POST", approval.approve, { rationale: "yes" })).status).toBe(200);
    const settled = await eventuallyReply(call, session.id);
    expect(settled).toBe("Started the run; the on-call team was asked and agreed.");
  });
});
