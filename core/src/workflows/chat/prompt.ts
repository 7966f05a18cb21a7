import { renderMessage } from "./history.js";
import type { OfflineCommand } from "./offline-commands.js";
import type { ChatMessage, ChatSession } from "./records.js";

export const CHAT_INSTRUCTIONS = [
  "You are the aat assistant in a chat with a person who operates security and automation workflows.",
  "Answer briefly and plainly. Say so when you do not know; never invent run ids, results or facts.",
  "You may call the tools you are given; plan.run starts another plan and returns its run id without waiting.",
  "Dangerous tools wait for a person's approval before they run.",
].join("\n");

/** The system prompt of one turn: instructions, the attached context, the summary of older messages. */
export function systemPrompt(contextSection: string, summary: string | undefined): string {
  const parts = [CHAT_INSTRUCTIONS];
  if (contextSection) parts.push(`## Context attached to this chat\n${contextSection}`);
  if (summary) parts.push(`## Summary of the earlier conversation\n${summary}`);
  return parts.join("\n\n");
}

/** The step prompt: the recent conversation as a transcript, then the new message. */
export function turnPrompt(recent: readonly ChatMessage[], message: string): string {
  if (recent.length === 0) return message;
  return `Conversation so far:\n${recent.map(renderMessage).join("\n")}\n\nThe user's new message:\n${message}`;
}

/** The input the chat plan is started with (its `inputs` schema in plans/chat/assistant.yaml matches). */
export interface ChatTurnInput {
  sessionId: string;
  message: string;
  system: string;
  prompt: string;
  /** True when the chat model is the offline model, which cannot read instructions: the plan answers by rules. */
  offline: boolean;
  context: ChatSession["context"];
  /** The attached context as rendered into `system`, for the offline answer to show. */
  contextText: string;
  /** Offline only: a `run …` or `status …` command read from the message. */
  command?: OfflineCommand;
}
