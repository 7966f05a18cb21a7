import * as z from "zod/mini";
import { positiveInt, setting } from "./meta.js";
import { configSection } from "./section.js";

/** The `chat` section: how much conversation and context a chat turn sends to the model. */

export const chatSection = configSection("chat", () =>
  z.strictObject({
    historyTokenBudget: setting(z._default(positiveInt(), 6000), {
      env: "AAT_CHAT_HISTORY_TOKEN_BUDGET",
      description:
        "Tokens (estimated as characters / 4) the summary, the messages and the new message may take; beyond it the oldest messages are summarised. Keep it well below the chat model's context window.",
    }),
    contextMaxItemChars: setting(z._default(positiveInt(), 4000), {
      env: "AAT_CHAT_CONTEXT_MAX_ITEM_CHARS",
      description:
        "Characters of one attached context item (a run, a plan) in the system prompt; longer text is cut and marked.",
    }),
    contextMaxTotalChars: setting(z._default(positiveInt(), 12_000), {
      env: "AAT_CHAT_CONTEXT_MAX_TOTAL_CHARS",
      description: "Characters of all attached context together in the system prompt.",
    }),
    turnWaitMs: setting(z._default(positiveInt(), 300_000), {
      env: "AAT_CHAT_TURN_WAIT_MS",
      description:
        "How long a message request waits for its turn's run; after that the stream ends with done (status running) and the reply is stored when the run finishes.",
    }),
  }),
);

export type ChatConfig = z.output<typeof chatSection>;
