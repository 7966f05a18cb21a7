import { randomUUID } from "node:crypto";
import type { Broadcast } from "../../ports/broadcast.js";
import type { ChatUsage } from "./records.js";

/** What an agent step reports while it answers: text as it is written, tool calls and their results. */
export type ChatDelta =
  | { type: "text"; text: string }
  | { type: "tool-call"; toolCallId?: string; name: string; input: unknown }
  | { type: "tool-result"; toolCallId?: string; name: string; output?: unknown; error?: string }
  | { type: "usage"; usage: ChatUsage };

export type ChatDeltaListener = (delta: ChatDelta) => void;

/** The relay channel of one run's deltas. */
const channelOf = (runId: string) => `chat-deltas/${runId}`;

/**
 * Fan-out of a run's deltas to the chat request waiting for that run. The agent step publishes through
 * the runner's `onTextDelta`; the HTTP request that started the turn subscribes before it starts the
 * run. Nothing is stored: the run's output is the record.
 *
 * With a `relay` (a Broadcast on the deployment's Redis or NATS) deltas also cross processes, so a
 * reply streams when the API replica that holds the request is not the worker that runs the step
 * (role api and worker, or several replicas). Without one they stay in this process, and a listener
 * elsewhere gets the whole reply from the run's output at the end (docs/decisions.md, chat streaming).
 */
export class ChatDeltaHub {
  private readonly listeners = new Map<string, Set<ChatDeltaListener>>();
  /** Per run with listeners here: the relay subscription (resolves to its stop function). */
  private readonly relayed = new Map<string, Promise<(() => void) | undefined>>();
  /** Marks this hub's own messages, which come back through the relay and were delivered already. */
  private readonly origin = randomUUID();

  constructor(private readonly relay?: Broadcast) {}

  /** Never throws into the step. */
  publish(runId: string, delta: ChatDelta): void {
    this.deliver(runId, delta);
    this.relay?.publish(channelOf(runId), JSON.stringify({ origin: this.origin, delta }));
  }

  /**
   * Listens to a run's deltas. Resolves once deltas published by other processes will arrive too (at
   * once without a relay); a relay that cannot subscribe leaves the listener with this process's deltas.
   */
  async subscribe(runId: string, listener: ChatDeltaListener): Promise<() => void> {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    if (this.relay && !this.relayed.has(runId)) {
      this.relayed.set(
        runId,
        this.relay
          .subscribe(channelOf(runId), (message) => this.fromRelay(runId, message))
          .catch(() => undefined),
      );
    }
    await this.relayed.get(runId);
    return () => {
      const current = this.listeners.get(runId);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(runId);
      const relayed = this.relayed.get(runId);
      this.relayed.delete(runId);
      void relayed?.then((stop) => stop?.());
    };
  }

  private fromRelay(runId: string, message: string): void {
    let parsed: { origin?: unknown; delta?: { type?: unknown } };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.origin === this.origin || typeof parsed.delta?.type !== "string") return;
    this.deliver(runId, parsed.delta as ChatDelta);
  }

  private deliver(runId: string, delta: ChatDelta): void {
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
}
