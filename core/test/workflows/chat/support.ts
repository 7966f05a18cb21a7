import { MemoryKeyValue } from "@aat/adapter-memory";
import {
  ChatContextRegistry,
  ChatDeltaHub,
  ChatService,
  type ChatServiceOptions,
  type ChatSummariser,
  ExtractiveSummariser,
  ManualClock,
  type Principal,
  type RunState,
  type StartRunRequest,
} from "@aat/core";

export const alice: Principal = { id: "key:alice", name: "alice", roles: ["analyst"], via: "apiKey" };
export const bob: Principal = { id: "key:bob", name: "bob", roles: ["responder"], via: "apiKey" };

/**
 * A runner stand-in that records what each turn was started with and finishes it at once with the
 * scripted reply: the chat service's own logic (history, context, storage) is what these tests check;
 * the real runner and plan are exercised end to end in functions/node/test/chat.test.ts.
 */
export class RecordingRunner {
  readonly started: StartRunRequest[] = [];
  private readonly runs = new Map<string, RunState>();

  constructor(
    private readonly clock: ManualClock,
    private readonly reply: (request: StartRunRequest) => Partial<RunState> = () => ({
      status: "succeeded",
      output: { text: "ok" },
    }),
  ) {}

  async start(request: StartRunRequest) {
    this.started.push(request);
    const runId = request.runId ?? `run-${this.started.length}`;
    const state = {
      runId,
      plan: { id: request.planId, version: 1, workflow: "chat" },
      status: "running",
      version: 3,
      input: request.input,
      startedAt: this.clock.now(),
      updatedAt: this.clock.now(),
      finishedAt: this.clock.now(),
      steps: {},
      ...this.reply(request),
    } as RunState;
    this.runs.set(runId, state);
    return { runId, created: true, state };
  }

  async load(runId: string): Promise<RunState | undefined> {
    return this.runs.get(runId);
  }

  set(runId: string, change: Partial<RunState>): void {
    this.runs.set(runId, { ...this.runs.get(runId)!, ...change } as RunState);
  }
}

export function makeChat(
  options: {
    reply?: ConstructorParameters<typeof RecordingRunner>[1];
    summariser?: ChatSummariser;
    offline?: boolean;
    contexts?: ChatContextRegistry;
  } & Partial<Pick<ChatServiceOptions, "history" | "contextLimits">> = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const kv = new MemoryKeyValue({ clock });
  const runner = new RecordingRunner(clock, options.reply);
  let n = 0;
  const chat = new ChatService({
    kv,
    runner,
    clock,
    contexts: options.contexts ?? new ChatContextRegistry(),
    deltas: new ChatDeltaHub(),
    summariser: options.summariser ?? new ExtractiveSummariser(),
    offline: () => options.offline ?? false,
    pollMs: 5,
    newId: () => `chat_${++n}`,
    ...(options.history ? { history: options.history } : {}),
    ...(options.contextLimits ? { contextLimits: options.contextLimits } : {}),
  });
  return { chat, runner, clock, kv };
}
