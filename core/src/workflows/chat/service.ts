import type { RunEventHub } from "../../api/event-hub.js";
import type { Principal } from "../../auth/principal.js";
import { type RunState, TERMINAL_RUN_STATUSES } from "../../graph/types.js";
import type { Clock } from "../../ports/clock.js";
import type { KeyValue } from "../../ports/kv.js";
import type { Runner } from "../../runner/runner.js";
import { type ChatContextRegistry, type ContextLimits, DEFAULT_CONTEXT_LIMITS } from "./context.js";
import type { ChatDelta, ChatDeltaHub } from "./deltas.js";
import { ChatSessionNotFoundError, ChatTurnInProgressError } from "./errors.js";
import {
  type ChatSummariser,
  DEFAULT_HISTORY_BUDGET,
  ExtractiveSummariser,
  estimateTokens,
  type HistoryBudget,
  planHistory,
} from "./history.js";
import { offlineCommand } from "./offline-commands.js";
import { progressDeltas } from "./progress.js";
import { type ChatTurnInput, systemPrompt, turnPrompt } from "./prompt.js";
import type { ChatMessage, ChatSession, ChatUsage, ContextRef } from "./records.js";
import { type ChatSessionPage, ChatSessionStore } from "./session-store.js";

/** What a client sees while a turn runs (the SSE event names are the `type`s). */
export type ChatTurnEvent =
  | { type: "turn"; sessionId: string; runId: string; message: ChatMessage }
  | { type: "delta"; text: string }
  | { type: "tool-call"; toolCallId?: string; name: string; input: unknown }
  | { type: "tool-result"; toolCallId?: string; name: string; output?: unknown; error?: string }
  | {
      type: "approval";
      runId: string;
      step: string;
      message?: string;
      proposal?: unknown;
      approve: string;
      reject: string;
    }
  | {
      type: "done";
      runId: string;
      /** succeeded/failed/cancelled: the reply is stored; waiting/running: it is stored once the run ends. */
      status: RunState["status"];
      message?: ChatMessage;
      usage: ChatUsage;
    };

export interface ChatServiceOptions {
  kv: KeyValue;
  /** With `store`, tool calls, tool results and usage are read from the run's log while it runs. */
  runner: Pick<Runner, "start" | "load"> & { store?: Pick<Runner["store"], "listLog"> };
  clock: Clock;
  contexts: ChatContextRegistry;
  deltas: ChatDeltaHub;
  /** Wakes a waiting turn as soon as its run's events are appended (else it polls). */
  events?: RunEventHub;
  /** Writes summaries of older messages; pick the extractive one for the offline model. */
  summariser: ChatSummariser;
  /** Whether the chat model is the offline model (it cannot read instructions). */
  offline: () => boolean;
  /** The plan every turn runs (default chat.assistant). */
  planId?: string;
  contextLimits?: ContextLimits;
  history?: HistoryBudget;
  /** How long a request waits for its turn's run before answering `done` with the run still going. */
  turnWaitMs?: number;
  /** Re-read the run this often when no event woke the turn (runs on workers in other processes). */
  pollMs?: number;
  newId?: () => string;
}

export const DEFAULT_CHAT_PLAN = "chat.assistant";

/**
 * The chat workflow: sessions in the KeyValue port, and turns that run as runs of the chat plan. A
 * turn stores the user's message, starts the plan with the conversation and context as input, relays
 * the agent's deltas as they come (non-durable) and stores the reply from the run's output (durable).
 */
export class ChatService {
  readonly store: ChatSessionStore;
  readonly planId: string;
  private readonly pollMs: number;
  private readonly turnWaitMs: number;

  constructor(private readonly options: ChatServiceOptions) {
    this.store = new ChatSessionStore(options.kv);
    this.planId = options.planId ?? DEFAULT_CHAT_PLAN;
    this.pollMs = options.pollMs ?? 500;
    this.turnWaitMs = options.turnWaitMs ?? 300_000;
  }

  get contexts(): ChatContextRegistry {
    return this.options.contexts;
  }

  async create(principal: Principal, init: { title?: string; context?: ContextRef[] }): Promise<ChatSession> {
    const context = init.context ?? [];
    this.options.contexts.check(context);
    const now = this.options.clock.now();
    return this.store.create({
      id: this.options.newId?.() ?? `chat_${crypto.randomUUID()}`,
      owner: principal.id,
      title: init.title ?? "New chat",
      context,
      now,
    });
  }

  list(principal: Principal, limit: number, cursor?: string): Promise<ChatSessionPage> {
    return this.store.list(principal.id, limit, cursor);
  }

  /** The session with its messages; a finished pending turn is stored first. */
  async get(principal: Principal, id: string): Promise<{ session: ChatSession; messages: ChatMessage[] }> {
    const session = await this.settle(await this.owned(principal, id));
    return { session, messages: await this.store.messages(id) };
  }

  async update(
    principal: Principal,
    id: string,
    change: { title?: string; context?: ContextRef[] },
  ): Promise<ChatSession> {
    await this.owned(principal, id);
    if (change.context) this.options.contexts.check(change.context);
    const now = this.options.clock.now();
    const updated = await this.store.update(id, (s) => ({
      ...s,
      ...(change.title !== undefined ? { title: change.title } : {}),
      ...(change.context !== undefined ? { context: change.context } : {}),
      updatedAt: Math.max(s.updatedAt, now),
    }));
    if (!updated) throw new ChatSessionNotFoundError(id);
    return updated;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.store.delete(await this.owned(principal, id));
  }

  /**
   * Starts a turn: stores the message and starts the chat plan. Everything a client can get wrong
   * (unknown session, a turn still running) is thrown here, before any reply is streamed. The run's
   * deltas are buffered from here on, so none is lost before `follow` is called.
   */
  async begin(principal: Principal, id: string, text: string): Promise<ChatTurn> {
    const session = await this.settle(await this.owned(principal, id));
    if (session.pendingRunId) {
      const run = await this.options.runner.load(session.pendingRunId);
      throw new ChatTurnInProgressError(id, session.pendingRunId, run?.status ?? "starting");
    }
    const prepared = await this.prepare(session, text);
    const runId = `${id}~turn~${session.messageCount + 1}`;
    const at = this.options.clock.now();
    const stored = await this.store.append(id, { role: "user", text, at, runId }, (s) =>
      // Another request took this turn between our read and this write: it answers, we refuse.
      s.pendingRunId || s.messageCount !== session.messageCount ? undefined : { ...s, pendingRunId: runId },
    );
    if (!stored) {
      const now = await this.store.get(id);
      if (!now) throw new ChatSessionNotFoundError(id);
      throw new ChatTurnInProgressError(id, now.pendingRunId ?? "(another message)", "running");
    }
    const relay = new DeltaRelay();
    const unsubscribe = await this.options.deltas.subscribe(runId, (delta) => relay.push(delta));
    const input: ChatTurnInput = { ...prepared, sessionId: id, message: text, context: session.context };
    try {
      await this.options.runner.start({ planId: this.planId, input, runId });
    } catch (error) {
      unsubscribe();
      // The turn never started: free the session for the next message (the user message stays).
      await this.store.update(id, (s) =>
        s.pendingRunId === runId ? { ...s, pendingRunId: undefined } : undefined,
      );
      throw error;
    }
    return new ChatTurn(this, {
      sessionId: id,
      runId,
      message: stored.message,
      prepared,
      relay,
      unsubscribe,
    });
  }

  /** begin + follow: one turn, its events written to `emit`. */
  async send(
    principal: Principal,
    id: string,
    text: string,
    emit: (event: ChatTurnEvent) => void | Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    const turn = await this.begin(principal, id, text);
    await turn.follow(emit, signal);
  }

  /** @internal ChatTurn.follow: waits for the run, stores the reply, reports the end. */
  async finish(turn: TurnParts, emit: (event: ChatTurnEvent) => void | Promise<void>, signal?: AbortSignal) {
    const { sessionId: id, runId, relay, prepared } = turn;
    try {
      await emit({ type: "turn", sessionId: id, runId, message: turn.message });
      relay.attach(emit);
      const run = await this.waitForRun(runId, signal, (delta) => relay.push(delta));
      await relay.flushed();
      if (run && TERMINAL_RUN_STATUSES.includes(run.status)) {
        const reply = await this.storeReply(id, run, relay.usage, relay.text);
        if (relay.text === "" && reply?.text) await emit({ type: "delta", text: reply.text });
        await emit({
          type: "done",
          runId,
          status: run.status,
          ...(reply ? { message: reply } : {}),
          usage: relay.usage ?? estimated(prepared, reply?.text ?? ""),
        });
        return;
      }
      for (const waiting of Object.values(run?.steps ?? {})) {
        if (waiting.status !== "waiting_approval") continue;
        const base = `/v1/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(waiting.key)}`;
        const request = waiting.approval?.request;
        await emit({
          type: "approval",
          runId,
          step: waiting.key,
          ...(request?.message !== undefined ? { message: request.message } : {}),
          ...(request?.proposal !== undefined ? { proposal: request.proposal } : {}),
          approve: `${base}/approve`,
          reject: `${base}/reject`,
        });
      }
      await emit({
        type: "done",
        runId,
        status: run?.status ?? "running",
        usage: relay.usage ?? estimated(prepared, relay.text),
      });
    } finally {
      turn.unsubscribe();
    }
  }

  /** Summarise what no longer fits, then build the plan input's prompts. */
  private async prepare(
    session: ChatSession,
    text: string,
  ): Promise<Pick<ChatTurnInput, "system" | "prompt" | "offline" | "contextText" | "command">> {
    const budget = this.options.history ?? DEFAULT_HISTORY_BUDGET;
    const throughSeq = session.summary?.throughSeq ?? 0;
    const messages = await this.store.messages(session.id, throughSeq);
    const plan = planHistory(messages, session.summary?.text, text, budget);
    let summary = session.summary?.text;
    if (plan.fold.length > 0) {
      const written = await this.options.summariser
        .summarise(summary, plan.fold)
        .catch(async (error: unknown) => {
          // The turn must not fail because the summary could not be written: fall back to the extractive one.
          const fallback = await new ExtractiveSummariser().summarise(summary, plan.fold);
          const reason = error instanceof Error ? error.message : String(error);
          return { ...fallback, text: `${fallback.text}\n(the model could not summarise: ${reason})` };
        });
      const record = { ...written, throughSeq: plan.fold.at(-1)!.seq, at: this.options.clock.now() };
      await this.store.update(session.id, (s) =>
        (s.summary?.throughSeq ?? 0) >= record.throughSeq ? undefined : { ...s, summary: record },
      );
      summary = written.text;
    }
    const contextSection = await this.options.contexts.render(
      session.context,
      this.options.contextLimits ?? DEFAULT_CONTEXT_LIMITS,
    );
    const offline = this.options.offline();
    const command = offline ? await offlineCommand(text, this.options.contexts) : undefined;
    return {
      system: systemPrompt(contextSection, summary),
      prompt: turnPrompt(plan.recent, text),
      offline,
      contextText: contextSection,
      ...(command ? { command } : {}),
    };
  }

  /** Waits until the run has finished or waits for someone, woken by its events, polling as a fallback. */
  private async waitForRun(
    runId: string,
    signal: AbortSignal | undefined,
    onProgress: (delta: ChatDelta) => void,
  ): Promise<RunState | undefined> {
    let logSeq = 0;
    const readLog = async () => {
      const store = this.options.runner.store;
      if (!store) return;
      for (;;) {
        const page = await store.listLog(runId, logSeq, 100);
        for (const { seq, event } of page) {
          logSeq = seq;
          for (const delta of progressDeltas(event)) onProgress(delta);
        }
        if (page.length < 100) return;
      }
    };
    const deadline = this.options.clock.now() + this.turnWaitMs;
    let wake: (() => void) | undefined;
    const unsubscribe = this.options.events?.subscribe(runId, () => wake?.());
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        const run = await this.options.runner.load(runId);
        await readLog();
        if (run && (TERMINAL_RUN_STATUSES.includes(run.status) || run.status === "waiting")) return run;
        if (signal?.aborted || this.options.clock.now() >= deadline) return run;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.pollMs);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      unsubscribe?.();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Stores the reply of a finished turn's run once, clearing the session's pending run in the same write. */
  private async storeReply(
    id: string,
    run: RunState,
    usage: ChatUsage | undefined,
    streamed: string,
  ): Promise<ChatMessage | undefined> {
    const text = replyText(run, streamed);
    const stored = await this.store.append(
      id,
      {
        role: "assistant",
        text,
        at: run.finishedAt ?? this.options.clock.now(),
        runId: run.runId,
        status: run.status as "succeeded" | "failed" | "cancelled",
        ...(usage ? { usage } : {}),
      },
      (s) => (s.pendingRunId === run.runId ? { ...s, pendingRunId: undefined } : undefined),
    );
    if (stored) return stored.message;
    // Someone else stored it first (a concurrent read settled the turn): return theirs.
    const messages = await this.store.messages(id);
    return messages.findLast((m) => m.role === "assistant" && m.runId === run.runId);
  }

  /** Stores the reply of a pending turn whose run has finished meanwhile (after an approval, say). */
  private async settle(session: ChatSession): Promise<ChatSession> {
    if (!session.pendingRunId) return session;
    const run = await this.options.runner.load(session.pendingRunId);
    if (run && !TERMINAL_RUN_STATUSES.includes(run.status)) return session;
    if (run) await this.storeReply(session.id, run, undefined, "");
    else
      await this.store.update(session.id, (s) =>
        s.pendingRunId === session.pendingRunId ? { ...s, pendingRunId: undefined } : undefined,
      );
    return (await this.store.get(session.id)) ?? session;
  }

  private async owned(principal: Principal, id: string): Promise<ChatSession> {
    const session = await this.store.get(id);
    if (!session || (session.owner !== principal.id && !principal.roles.includes("admin"))) {
      throw new ChatSessionNotFoundError(id);
    }
    return session;
  }
}

/** The text of a finished turn: the plan's `text` output, or what went wrong. */
function replyText(run: RunState, streamed: string): string {
  if (run.status === "succeeded") {
    const output = run.output as { text?: unknown } | undefined;
    if (typeof output?.text === "string") return output.text;
    return streamed || JSON.stringify(run.output ?? null);
  }
  if (run.status === "cancelled") return "This turn was cancelled before it was answered.";
  return `This turn failed: ${run.error?.message ?? "the chat plan's run failed"} (run ${run.runId}).`;
}

function addUsage(sum: ChatUsage | undefined, more: ChatUsage): ChatUsage {
  const add = (a: number | undefined, b: number | undefined) =>
    a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
  const inputTokens = add(sum?.inputTokens, more.inputTokens);
  const outputTokens = add(sum?.outputTokens, more.outputTokens);
  const totalTokens = add(sum?.totalTokens, more.totalTokens);
  return {
    ...(inputTokens !== undefined ? { inputTokens } : {}),
    ...(outputTokens !== undefined ? { outputTokens } : {}),
    ...(totalTokens !== undefined ? { totalTokens } : {}),
    ...(sum?.estimated || more.estimated ? { estimated: true } : {}),
  };
}

function estimated(prepared: { system: string; prompt: string }, reply: string): ChatUsage {
  const inputTokens = estimateTokens(prepared.system) + estimateTokens(prepared.prompt);
  const outputTokens = estimateTokens(reply);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
}

interface TurnParts {
  sessionId: string;
  runId: string;
  message: ChatMessage;
  prepared: { system: string; prompt: string };
  relay: DeltaRelay;
  unsubscribe: () => void;
}

/** A started turn: `follow` relays its events and stores the reply (call it once). */
export class ChatTurn {
  constructor(
    private readonly service: ChatService,
    private readonly parts: TurnParts,
  ) {}

  get runId(): string {
    return this.parts.runId;
  }

  get message(): ChatMessage {
    return this.parts.message;
  }

  follow(emit: (event: ChatTurnEvent) => void | Promise<void>, signal?: AbortSignal): Promise<void> {
    return this.service.finish(this.parts, emit, signal);
  }
}

/**
 * Forwards deltas to the client in order, one write at a time, and remembers the text and usage.
 * Deltas that arrive before the client is attached are buffered.
 */
class DeltaRelay {
  text = "";
  usage: ChatUsage | undefined;
  private emit: ((event: ChatTurnEvent) => void | Promise<void>) | undefined;
  private readonly buffer: ChatTurnEvent[] = [];
  private chain: Promise<void> = Promise.resolve();

  attach(emit: (event: ChatTurnEvent) => void | Promise<void>): void {
    this.emit = emit;
    for (const event of this.buffer.splice(0)) this.forward(event);
  }

  push(delta: ChatDelta): void {
    if (delta.type === "usage") {
      this.usage = addUsage(this.usage, delta.usage);
      return;
    }
    if (delta.type === "text") this.text += delta.text;
    const event: ChatTurnEvent = delta.type === "text" ? { type: "delta", text: delta.text } : delta;
    if (this.emit) this.forward(event);
    else this.buffer.push(event);
  }

  private forward(event: ChatTurnEvent): void {
    const emit = this.emit!;
    // A client that went away makes writes fail; the turn still finishes and its reply is stored.
    this.chain = this.chain.then(() => emit(event)).catch(() => undefined);
  }

  flushed(): Promise<void> {
    return this.chain;
  }
}
