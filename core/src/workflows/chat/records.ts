import { z } from "zod";

/** A piece of context attached to a session: a kind the context registry knows, and the thing's id. */
export const contextRefSchema = z
  .strictObject({
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, "must be a lower-case kind such as run or plan")
      .meta({ description: "What is attached: run, plan (GET /v1/chat/context-kinds lists them)." }),
    id: z.string().min(1).max(500).meta({ description: "The run id, plan id, …" }),
  })
  .meta({ id: "ChatContextRef" });
export type ContextRef = z.infer<typeof contextRefSchema>;

export const chatUsageSchema = z
  .object({
    inputTokens: z.number().optional(),
    outputTokens: z.number().optional(),
    totalTokens: z.number().optional(),
    estimated: z.boolean().optional(),
  })
  .meta({ id: "ChatUsage" });
export type ChatUsage = z.infer<typeof chatUsageSchema>;

/** How older messages were folded into the session's summary. */
export const chatSummarySchema = z
  .object({
    text: z.string(),
    /** Messages with seq up to this one are covered by the summary and no longer sent in full. */
    throughSeq: z.number().int(),
    by: z.enum(["model", "offline-extractive"]),
    at: z.number(),
  })
  .meta({ id: "ChatSummary" });
export type ChatSummary = z.infer<typeof chatSummarySchema>;

export const chatSessionSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    /** Principal id of the creator; only they (and admins) see the session. */
    owner: z.string(),
    createdAt: z.number(),
    updatedAt: z.number(),
    context: z.array(contextRefSchema),
    /** Messages stored so far; the next message gets seq messageCount + 1. */
    messageCount: z.number().int(),
    summary: chatSummarySchema.optional(),
    /** The run of a turn that has not been answered yet (running, or waiting for an approval). */
    pendingRunId: z.string().optional(),
  })
  .meta({ id: "ChatSession" });
export type ChatSession = z.infer<typeof chatSessionSchema>;

export const chatMessageSchema = z
  .object({
    seq: z.number().int(),
    role: z.enum(["user", "assistant"]),
    text: z.string(),
    at: z.number(),
    /** The chat plan's run that produced (assistant) or answered (user) this message. */
    runId: z.string().optional(),
    /** Assistant messages: how the turn ended. */
    status: z.enum(["succeeded", "failed", "cancelled"]).optional(),
    usage: chatUsageSchema.optional(),
  })
  .meta({ id: "ChatMessage" });
export type ChatMessage = z.infer<typeof chatMessageSchema>;
