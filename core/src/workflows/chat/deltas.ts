import type { ChatUsage } from "./records.js";

/** What an agent step reports while it answers: text as it is written, tool calls and their results. */
export type ChatDelta =
  | { type: "text"; text: string }
  | { type: "tool-call"; toolCallId?: string; name: string; input: unknown }
  | { type: "tool-result"; toolCallId?: string; name: string; output?: unknown; error?: string }
  | { type: "usage"; usage: ChatUsage };

/** Where a streaming agent step writes its deltas. Never durable: the run's output is the record. */
export interface ChatDeltaSink {
  push(delta: ChatDelta): void;
}

export type ChatDeltaListener = (delta: ChatDelta) => void;

/**
 * In-process fan-out of a run's deltas to the chat request waiting for that run. The worker that runs
 * the chat plan's agent step pushes through `sinkFor(runId)`; the HTTP request that started the turn
 * subscribes before it starts the run. Nothing is stored: a listener in another process sees nothing,
 * and then gets the whole reply from the run's output at the end (docs/decisions.md, chat streaming).
 */
export class ChatDeltaHub {
  private readonly listeners = new Map<string, Set<ChatDeltaListener>>();

  /** A sink for one run: a no-op when nobody listens. Never throws into the step. */
  sinkFor(runId: string): ChatDeltaSink {
    return { push: (delta) => this.publish(runId, delta) };
  }

  publish(runId: string, delta: ChatDelta): void {
    const listeners = this.listeners.get(runId);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(delta);
      } catch {
        // A slow or broken reader must not fail the step.
      }
    }
  }

  /** Whether someone waits for this run's deltas (a streaming model may skip streaming otherwise). */
  isWatched(runId: string): boolean {
    return this.listeners.has(runId);
  }

  subscribe(runId: string, listener: ChatDeltaListener): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(runId);
      current?.delete(listener);
      if (current && current.size === 0) this.listeners.delete(runId);
    };
  }
}
