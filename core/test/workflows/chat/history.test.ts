import {
  type ChatMessage,
  type ChatSummariser,
  EXTRACTIVE_LABEL,
  ExtractiveSummariser,
  planHistory,
} from "@aat/core";
import { describe, expect, it } from "vitest";
import { alice, makeChat } from "./support.js";

const message = (seq: number, text: string): ChatMessage => ({
  seq,
  role: seq % 2 === 1 ? "user" : "assistant",
  text,
  at: seq,
});

describe("chat history", () => {
  it("keeps everything while it fits, and folds the oldest messages when it would not", () => {
    const messages = [1, 2, 3, 4, 5, 6].map((n) => message(n, `message ${n} `.repeat(20)));
    expect(planHistory(messages, undefined, "next", { maxTokens: 10_000, keepShare: 0.5 }).fold).toEqual([]);
    const plan = planHistory(messages, undefined, "next", { maxTokens: 200, keepShare: 0.5 });
    expect(plan.fold.length).toBeGreaterThan(0);
    expect(plan.recent.length).toBeGreaterThan(0);
    expect([...plan.fold, ...plan.recent].map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("offline, writes an extractive summary that says it is one", async () => {
    const summary = await new ExtractiveSummariser(500).summarise(undefined, [
      message(1, "Please check run r-17. It failed last night."),
      message(2, "Run r-17 failed in step enrich."),
    ]);
    expect(summary.by).toBe("offline-extractive");
    expect(summary.text.startsWith(EXTRACTIVE_LABEL)).toBe(true);
    expect(summary.text).toContain("- user: Please check run r-17.");
    expect(summary.text).not.toContain("It failed last night");
  });

  it("summarises with the model when the history exceeds the budget, once, and sends only recent messages", async () => {
    const calls: Array<{ previous?: string; seqs: number[] }> = [];
    const summariser: ChatSummariser = {
      async summarise(previous, messages) {
        calls.push({ ...(previous ? { previous } : {}), seqs: messages.map((m) => m.seq) });
        return { text: `SUMMARY(${messages.map((m) => m.seq).join(",")})`, by: "model" };
      },
    };
    const { chat, runner } = makeChat({
      summariser,
      history: { maxTokens: 120, keepShare: 0.5 },
      reply: () => ({ status: "succeeded", output: { text: "a reply of some length ".repeat(4) } }),
    });
    const session = await chat.create(alice, {});
    for (let i = 1; i <= 4; i++)
      await chat.send(alice, session.id, `question ${i} `.repeat(8), () => undefined);

    expect(calls.length).toBeGreaterThan(0);
    const { session: after } = await chat.get(alice, session.id);
    expect(after.summary?.by).toBe("model");
    const last = runner.started.at(-1)!.input as { system: string; prompt: string };
    expect(last.system).toContain("## Summary of the earlier conversation\nSUMMARY(");
    // What the summary covers is not repeated verbatim.
    expect(last.prompt).not.toContain("question 1");
    expect(last.prompt).toContain("question 4");
    // A later summary builds on the earlier one instead of re-reading folded messages.
    if (calls.length > 1) expect(calls[1]!.previous).toMatch(/^SUMMARY/);
    const folded = calls.flatMap((c) => c.seqs);
    expect(new Set(folded).size).toBe(folded.length);
  });

  it("falls back to the extractive summary when the model cannot summarise", async () => {
    const { chat, runner } = makeChat({
      summariser: { summarise: () => Promise.reject(new Error("HTTP 429 rate limited")) },
      history: { maxTokens: 60, keepShare: 0.5 },
    });
    const session = await chat.create(alice, {});
    for (let i = 1; i <= 3; i++)
      await chat.send(alice, session.id, `question ${i} `.repeat(8), () => undefined);
    const last = runner.started.at(-1)!.input as { system: string };
    expect(last.system).toContain(EXTRACTIVE_LABEL);
    expect(last.system).toContain("the model could not summarise: HTTP 429 rate limited");
  });
});
