import type { ChatSummariser } from "./history.js";
import { renderMessage } from "./history.js";
import type { ChatMessage } from "./records.js";

/** One plain completion: the prompt in, the model's text out (the runtime passes a configured model). */
export type CompleteText = (prompt: string, signal: AbortSignal) => Promise<string>;

/** Summaries written by the configured model: one call without tools. */
export class ModelSummariser implements ChatSummariser {
  constructor(
    private readonly complete: CompleteText,
    private readonly timeoutMs = 60_000,
  ) {}

  async summarise(previous: string | undefined, messages: readonly ChatMessage[]) {
    const prompt = [
      "Summarise this conversation for your own memory in at most 12 short bullet points: facts, decisions, run and plan ids, open questions. Write only the summary.",
      ...(previous ? [`Summary so far:\n${previous}`] : []),
      `Messages:\n${messages.map(renderMessage).join("\n")}`,
    ].join("\n\n");
    const text = await this.complete(prompt, AbortSignal.timeout(this.timeoutMs));
    return { text: text.trim(), by: "model" as const };
  }
}
