import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { PlanNotFoundError } from "../../runner/errors.js";
import {
  ChatInputError,
  ChatSessionNotFoundError,
  ChatTurnInProgressError,
} from "../../workflows/chat/errors.js";
import {
  chatMessageSchema,
  chatSessionSchema,
  chatUsageSchema,
  contextRefSchema,
} from "../../workflows/chat/records.js";
import type { ChatService, ChatTurn, ChatTurnEvent } from "../../workflows/chat/service.js";
import type { ApiApp, ApiContext } from "../context.js";
import type { ApiEnv } from "../deps.js";
import { AUTH_PROBLEMS, allowRoles, problems } from "../openapi-route.js";
import { ApiProblem } from "../problem.js";

/** Everyone who works with runs may chat; viewers only read runs, and a chat turn starts one. */
const CHAT_ROLES = ["responder", "analyst", "developer"] as const;

const sessionParams = z.object({ id: z.string().min(1).max(200) });
const title = z.string().trim().min(1, "must not be empty").max(200, "may be at most 200 characters");
const context = z.array(contextRefSchema).max(20, "at most 20 items may be attached");

const createBody = z
  .strictObject({ title: title.optional(), context: context.optional() })
  .meta({ id: "ChatSessionCreate" });
const patchBody = z
  .strictObject({ title: title.optional(), context: context.optional() })
  .refine((b) => b.title !== undefined || b.context !== undefined, {
    message: "send title, context or both",
  })
  .meta({ id: "ChatSessionPatch" });
const messageBody = z
  .strictObject({
    text: z
      .string()
      .trim()
      .min(1, "must not be empty: write the message to send")
      .max(32_000, "may be at most 32,000 characters"),
  })
  .meta({ id: "ChatMessageCreate" });
const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).optional().meta({ description: "nextCursor of the previous page." }),
});
const listResponse = z
  .object({ items: z.array(chatSessionSchema), nextCursor: z.string().optional() })
  .meta({ id: "ChatSessionPage" });
const detailResponse = z
  .object({ session: chatSessionSchema, messages: z.array(chatMessageSchema) })
  .meta({ id: "ChatSessionDetail" });
export const chatTurnResponseSchema = z
  .object({
    runId: z.string(),
    status: z.string().meta({
      description:
        "The run's status: succeeded, failed, cancelled, or waiting/running when the reply is still to come.",
    }),
    userMessage: chatMessageSchema,
    message: chatMessageSchema
      .optional()
      .meta({ description: "The stored reply (absent while the run waits or runs)." }),
    approvals: z.array(
      z.object({
        step: z.string(),
        message: z.string().optional(),
        proposal: z.unknown().optional(),
        approve: z.string(),
        reject: z.string(),
      }),
    ),
    toolCalls: z.array(z.object({ name: z.string(), input: z.unknown() })),
    usage: chatUsageSchema,
  })
  .meta({ id: "ChatTurn" });

const tags = ["chat"];
const ROLES = allowRoles(...CHAT_ROLES);

const createSession = createRoute({
  method: "post",
  path: "/v1/chat/sessions",
  tags,
  summary: "Start a chat session",
  description:
    "Optional `context` attaches things the assistant sees in its system prompt (kinds: GET /v1/chat/context-kinds).",
  ...ROLES,
  request: { body: { required: false, content: { "application/json": { schema: createBody } } } },
  responses: {
    201: { description: "The session.", content: { "application/json": { schema: chatSessionSchema } } },
    ...problems(...AUTH_PROBLEMS, 400, 415, 422),
  },
});

const listSessions = createRoute({
  method: "get",
  path: "/v1/chat/sessions",
  tags,
  summary: "Your chat sessions, newest first",
  ...ROLES,
  request: { query: listQuery },
  responses: {
    200: { description: "A page of sessions.", content: { "application/json": { schema: listResponse } } },
    ...problems(...AUTH_PROBLEMS, 400),
  },
});

const getSession = createRoute({
  method: "get",
  path: "/v1/chat/sessions/{id}",
  tags,
  summary: "A chat session with its messages",
  description:
    "A reply that finished after its request ended (an approval decided later) is stored on this read.",
  ...ROLES,
  request: { params: sessionParams },
  responses: {
    200: {
      description: "The session and its messages, oldest first.",
      content: { "application/json": { schema: detailResponse } },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404),
  },
});

const patchSession = createRoute({
  method: "patch",
  path: "/v1/chat/sessions/{id}",
  tags,
  summary: "Rename a session or change its attached context",
  ...ROLES,
  request: {
    params: sessionParams,
    body: { required: true, content: { "application/json": { schema: patchBody } } },
  },
  responses: {
    200: { description: "The session.", content: { "application/json": { schema: chatSessionSchema } } },
    ...problems(...AUTH_PROBLEMS, 400, 404, 415, 422),
  },
});

const deleteSession = createRoute({
  method: "delete",
  path: "/v1/chat/sessions/{id}",
  tags,
  summary: "Delete a session and its messages",
  description: "Runs its turns started are kept (they are in GET /v1/runs).",
  ...ROLES,
  request: { params: sessionParams },
  responses: { 204: { description: "Deleted." }, ...problems(...AUTH_PROBLEMS, 400, 404) },
});

const postMessage = createRoute({
  method: "post",
  path: "/v1/chat/sessions/{id}/messages",
  tags,
  summary: "Send a message; the reply streams as server-sent events",
  description: [
    "Runs the chat plan (chat.assistant) for this turn. By default the answer is a text/event-stream:",
    "`turn` (the stored user message and the run id), `delta` (text as the model writes it), `tool-call`,",
    "`tool-result`, `approval` (a dangerous tool waits for a person: approve or reject at the given URLs),",
    "`done` (status, the stored reply, usage) and, on a server failure, `error`. With",
    "`Accept: application/json` the same turn answers once, as one JSON document. 409 while the previous",
    "turn is still running or waiting for an approval.",
  ].join(" "),
  ...ROLES,
  request: {
    params: sessionParams,
    body: { required: true, content: { "application/json": { schema: messageBody } } },
  },
  responses: {
    200: {
      description: "The reply: an event stream, or JSON with Accept: application/json.",
      content: {
        "text/event-stream": { schema: z.string().meta({ description: "text/event-stream" }) },
        "application/json": { schema: chatTurnResponseSchema },
      },
    },
    ...problems(...AUTH_PROBLEMS, 400, 404, 409, 413, 415, 422, 503),
  },
});

const contextKinds = createRoute({
  method: "get",
  path: "/v1/chat/context-kinds",
  tags,
  summary: "Kinds of context a session can attach",
  ...ROLES,
  responses: {
    200: {
      description: "The kinds.",
      content: {
        "application/json": {
          schema: z.object({ items: z.array(z.object({ kind: z.string(), description: z.string() })) }),
        },
      },
    },
    ...problems(...AUTH_PROBLEMS),
  },
});

/** The chat routes (docs/workflows-chat.md); mounted when the API is given a ChatService. */
export function registerChatRoutes(app: ApiApp, ctx: ApiContext, chat: ChatService): void {
  app.openapi(createSession, async (c) => {
    const body = (c.req.valid("json") ?? {}) as z.infer<typeof createBody>;
    const session = await mapped(() => chat.create(c.get("principal"), body));
    c.set("audit", { target: `chat:${session.id}` });
    return c.json(session, 201, { Location: `/v1/chat/sessions/${encodeURIComponent(session.id)}` });
  });

  app.openapi(listSessions, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await mapped(() => chat.list(c.get("principal"), limit, cursor)), 200);
  });

  app.openapi(getSession, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await mapped(() => chat.get(c.get("principal"), id)), 200);
  });

  app.openapi(patchSession, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    c.set("audit", { target: `chat:${id}` });
    return c.json(await mapped(() => chat.update(c.get("principal"), id, body)), 200);
  });

  app.openapi(deleteSession, async (c) => {
    const { id } = c.req.valid("param");
    c.set("audit", { target: `chat:${id}` });
    await mapped(() => chat.delete(c.get("principal"), id));
    return c.body(null, 204);
  });

  app.openapi(contextKinds, (c) => c.json({ items: chat.contexts.kinds() }, 200));

  app.openapi(postMessage, async (c) => {
    const { id } = c.req.valid("param");
    const { text } = c.req.valid("json");
    const principal = c.get("principal");
    const turn = await mapped(() => chat.begin(principal, id, text), chat.planId);
    c.set("audit", { target: `chat:${id}`, details: { runId: turn.runId } });

    return answerTurn(c, ctx, turn, id);
  });
}

/**
 * Answers a started chat turn: an SSE stream (turn, delta, tool-call, tool-result, approval, done,
 * error), or one JSON document with `Accept: application/json`. Shared with POST /v1/alerts/:id/chat.
 */
export async function answerTurn(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  turn: ChatTurn,
  id: string,
): Promise<Response> {
  if (wantsJson(c.req.header("accept"))) {
    const events: ChatTurnEvent[] = [];
    await turn.follow((event) => {
      events.push(event);
    }, c.req.raw.signal);
    const done = events.find((e) => e.type === "done");
    return c.json(
      {
        runId: turn.runId,
        status: done?.type === "done" ? done.status : "running",
        userMessage: turn.message,
        ...(done?.type === "done" && done.message ? { message: done.message } : {}),
        approvals: events.flatMap((e) =>
          e.type === "approval"
            ? [
                {
                  step: e.step,
                  ...(e.message !== undefined ? { message: e.message } : {}),
                  ...(e.proposal !== undefined ? { proposal: e.proposal } : {}),
                  approve: e.approve,
                  reject: e.reject,
                },
              ]
            : [],
        ),
        toolCalls: events.flatMap((e) => (e.type === "tool-call" ? [{ name: e.name, input: e.input }] : [])),
        usage: done?.type === "done" ? done.usage : {},
      },
      200,
    );
  }

  return streamSSE(c, async (stream) => {
    const aborted = new AbortController();
    stream.onAbort(() => aborted.abort());
    // A comment line now and then, so proxies keep a turn open while a tool or the model is slow.
    const heartbeat = setInterval(
      () => void stream.write(": keep-alive\n\n").catch(() => undefined),
      ctx.deps.sse?.heartbeatMs ?? 15_000,
    );
    try {
      await turn.follow(async (event) => {
        const { type, ...data } = event;
        await stream.writeSSE({ event: type, data: JSON.stringify(data) });
      }, aborted.signal);
    } catch (error) {
      if (stream.aborted || stream.closed) return;
      const requestId = c.get("requestId");
      ctx.logger.error(
        {
          requestId,
          sessionId: id,
          runId: turn.runId,
          error: error instanceof Error ? error.message : String(error),
        },
        "chat turn stream failed",
      );
      await stream
        .writeSSE({
          event: "error",
          data: JSON.stringify({
            requestId,
            runId: turn.runId,
            detail: `the reply could not be streamed; the run goes on and GET /v1/chat/sessions/${id} shows the reply once it is stored`,
          }),
        })
        .catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }) as unknown as Response;
}

/** JSON only when asked for and preferred to event streams. */
function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.includes("application/json") && !accept.includes("text/event-stream");
}

/** Runs a chat service call, turning its errors into problems. */
export async function mapped<T>(call: () => Promise<T>, chatPlanId?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toChatProblem(error, chatPlanId) ?? error;
  }
}

function toChatProblem(error: unknown, chatPlanId?: string): ApiProblem | undefined {
  if (error instanceof ChatSessionNotFoundError) {
    return new ApiProblem(404, {
      kind: "not-found",
      detail: error.message,
      extra: { sessionId: error.sessionId },
    });
  }
  if (error instanceof ChatInputError) {
    return new ApiProblem(error.status, {
      kind: error.status === 400 ? "bad-request" : "validation",
      detail: error.message,
      errors: [{ path: error.path, message: error.message }],
    });
  }
  if (error instanceof ChatTurnInProgressError) {
    return new ApiProblem(409, {
      kind: "chat-turn-in-progress",
      detail: error.message,
      extra: { sessionId: error.sessionId, runId: error.runId, runStatus: error.runStatus },
    });
  }
  if (error instanceof PlanNotFoundError && chatPlanId !== undefined && error.planId === chatPlanId) {
    return new ApiProblem(503, {
      kind: "chat-plan-missing",
      detail: `the chat plan "${chatPlanId}" is not loaded on this server: add the shipped plans folder (plans/) to plans.directories or publish plans/chat/assistant.yaml`,
    });
  }
  return undefined;
}
