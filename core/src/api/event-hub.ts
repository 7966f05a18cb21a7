import type { RunEvent } from "../graph/types.js";

export type RunEventListener = (seq: number, event: RunEvent) => void;

/**
 * In-process fan-out of appended run events to live readers (the SSE route). The runtime passes
 * `hub.publish` as the Runner's `onEvent` and the hub itself to the API. It only wakes readers up:
 * they read the durable log themselves, so an event appended by another process is still seen (by
 * the reader's slow poll) and nothing is lost when a listener is slow.
 */
export class RunEventHub {
  private readonly listeners = new Map<string, Set<RunEventListener>>();

  /** Matches RunnerOptions.onEvent; never throws into the runner. */
  readonly publish = (runId: string, seq: number, event: RunEvent): void => {
    const listeners = this.listeners.get(runId);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(seq, event);
      } catch {
        // A reader's bug must not fail the step that produced the event.
      }
    }
  };

  /** Listen to one run's events; call the returned function to stop. */
  subscribe(runId: string, listener: RunEventListener): () => void {
    let listeners = this.listeners.get(runId);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(runId, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this.listeners.get(runId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(runId);
    };
  }

  /** Runs with at least one listener (for tests and metrics). */
  get watchedRuns(): number {
    return this.listeners.size;
  }
}
