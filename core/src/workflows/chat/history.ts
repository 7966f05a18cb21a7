import type { ChatMessage, ChatSummary } from "./records.js";

/** About four characters per token: cheap, provider-neutral and close enough for a budget check. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface HistoryBudget {
  /** Tokens the conversation (summary + messages + the new message) may take in the prompt. */
  maxTokens: number;
  /** When summarising, the newest messages kept verbatim take at most this share of maxTokens. */
  keepShare: number;
}

export const DEFAULT_HISTORY_BUDGET: HistoryBudget = { maxTokens: 6000, keepShare: 0.5 };

/** Writes a summary of messages that no longer fit (the model, or an extractive one offline). */
export interface ChatSummariser {
  summarise(
    previous: string | undefined,
    messages: readonly ChatMessage[],
  ): Promise<Omit<ChatSummary, "throughSeq" | "at">>;
}

export interface HistoryPlan {
  /** Messages sent in full, oldest first. */
  recent: ChatMessage[];
  /** Older messages to fold into the summary first; empty when everything fits. */
  fold: ChatMessage[];
}

export function renderMessage(message: Pick<ChatMessage, "role" | "text">): string {
  return `${message.role === "user" ? "User" : "Assistant"}: ${message.text}`;
}

/**
 * Which messages go into the prompt verbatim and which must be summarised: everything fits when the
 * summary, the messages and the new message stay within the budget; otherwise the newest messages that
 * fit in keepShare of it stay (at least the last one) and the older ones are folded into the summary.
 */
export function planHistory(
  messages: readonly ChatMessage[],
  summary: string | undefined,
  incoming: string,
  budget: HistoryBudget = DEFAULT_HISTORY_BUDGET,
): HistoryPlan {
  const cost = (m: ChatMessage) => estimateTokens(renderMessage(m)) + 1;
  const total =
    estimateTokens(summary ?? "") + estimateTokens(incoming) + messages.reduce((n, m) => n + cost(m), 0);
  if (total <= budget.maxTokens || messages.length === 0) return { recent: [...messages], fold: [] };
  const keepTokens = Math.floor(budget.maxTokens * budget.keepShare);
  let used = 0;
  let split = messages.length;
  while (split > 0) {
    const next = cost(messages[split - 1]!);
    if (used + next > keepTokens && split < messages.length) break;
    used += next;
    split--;
  }
  // Keep at least the newest message, fold at least one: otherwise nothing would shrink.
  split = Math.min(Math.max(split, 1), messages.length - 1);
  if (split <= 0) split = Math.min(1, messages.length);
  return { recent: messages.slice(split), fold: messages.slice(0, split) };
}

export const EXTRACTIVE_LABEL =
  "[offline model] Extractive summary, not written by a language model: the opening of each earlier message, shortened.";

/**
 * The offline summariser: no understanding, just the opening of each message (and of the previous
 * summary), cut to fit in `maxChars`. It says what it is in its first line.
 */
export class ExtractiveSummariser implements ChatSummariser {
  constructor(private readonly maxChars = 2000) {}

  async summarise(previous: string | undefined, messages: readonly ChatMessage[]) {
    const lines: string[] = [];
    if (previous) lines.push(`- earlier: ${opening(previous.replace(`${EXTRACTIVE_LABEL}\n`, ""), 200)}`);
    for (const message of messages) lines.push(`- ${message.role}: ${opening(message.text, 160)}`);
    let body = lines.join("\n");
    const room = this.maxChars - EXTRACTIVE_LABEL.length - 1;
    if (body.length > room) body = `…\n${body.slice(body.length - room + 2)}`;
    return { text: `${EXTRACTIVE_LABEL}\n${body}`, by: "offline-extractive" as const };
  }
}

/** The first sentence (or `max` characters) of `text`, whitespace collapsed. */
function opening(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const sentence = /^.*?[.!?](\s|$)/.exec(flat)?.[0]?.trim() ?? flat;
  return sentence.length > max ? `${sentence.slice(0, max - 1)}…` : sentence;
}
