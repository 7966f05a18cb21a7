import { join } from "node:path";
import { ScriptedLlmServer } from "@aat/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aatInteractive, REPO_ROOT, startTestRuntime, type TestRuntime } from "./support.js";

let llm: ScriptedLlmServer;
let runtime: TestRuntime;
let env: Record<string, string>;

beforeAll(async () => {
  // The chat plan's agent step streams from a model: the scripted OpenAI-compatible server.
  llm = await ScriptedLlmServer.start();
  runtime = await startTestRuntime([join(REPO_ROOT, "plans/chat")], {
    models: {
      default: "default",
      providers: {
        default: {
          provider: "openai-compatible",
          model: "scripted-chat",
          baseUrl: llm.openAiBaseUrl,
          apiKey: "sk-cli-chat-test-123456",
        },
      },
    },
  });
  env = { AAT_URL: runtime.url, AAT_API_KEY: runtime.adminKey, AAT_CONFIG_DIR: "/nonexistent-aat-config" };
});
afterAll(async () => {
  // The model first: its held reply ends, so the runtime's worker has nothing left to drain.
  await llm?.close();
  await runtime?.stop();
});

describe("aat chat in a terminal (pseudo-terminal)", () => {
  it("streams replies; Ctrl-C stops a reply, not the session; the next message works; Ctrl-D exits 0", {
    timeout: 240_000,
  }, async () => {
    const first = "Hello! I am the aat assistant, streaming this reply.";
    const second = "Second answer, after the stopped one.";
    llm.enqueue(
      { kind: "reply", text: first, chunkSize: 5 },
      // The model takes its time: the reply is still being written when Ctrl-C comes.
      { kind: "reply", text: "You should never see this.", delayMs: 60_000 },
      { kind: "reply", text: second, chunkSize: 5 },
    );
    const chat = aatInteractive(["chat"], env);
    let at = await chat.waitFor("you> ");
    const sessionId = /chat session (\S+);/.exec(chat.screen())?.[1];
    expect(sessionId).toBeDefined();

    chat.type("hello\r");
    at = await chat.waitFor(first, at);
    at = await chat.waitFor("you> ", at);

    chat.type("tell me something slowly\r");
    // The chat turn has reached the model: the reply is under way.
    while (llm.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    chat.type("\u0003");
    at = await chat.waitFor("(reply stopped)", at);
    at = await chat.waitFor("you> ", at);

    chat.type("and now?\r");
    at = await chat.waitFor(second, at);
    at = await chat.waitFor("you> ", at);

    chat.type("\u0004");
    const result = await chat.exited;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).not.toContain("You should never see this.");

    // The stopped turn's run was cancelled, so the session took the next message; all stored in order.
    const detail = (await (
      await fetch(`${runtime.url}/v1/chat/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${runtime.adminKey}` },
      })
    ).json()) as { messages: Array<{ role: string; text: string; status?: string }> };
    expect(detail.messages.map((m) => [m.role, m.text])).toEqual([
      ["user", "hello"],
      ["assistant", first],
      ["user", "tell me something slowly"],
      ["assistant", "This turn was cancelled before it was answered."],
      ["user", "and now?"],
      ["assistant", second],
    ]);
  });
});
