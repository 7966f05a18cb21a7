import type { SSEStreamingApi } from "hono/streaming";
import { TERMINAL_RUN_STATUSES } from "../graph/types.js";
import type { Runner } from "../runner/runner.js";
import type { RunEventHub } from "./event-hub.js";

export interface RunEventStreamOptions {
  /** Re-read the log this often when nothing woke the stream (events written by other processes). */
  pollMs: number;
  /** Send a comment line when nothing was written for this long, so proxies keep the connection. */
  heartbeatMs: number;
}

/** Log events read per round trip. */
const PAGE = 100;

/**
 * Writes a run's event log as server-sent events from `afterSeq` on: `id:` is the event's seq,
 * `event:` its type and `data:` the event as JSON. The log is the only source: the hub merely wakes the
 * stream early, so order and completeness hold whichever process appended the events. When the run has
 * finished and every event up to its last was sent, an `end` event (without id) closes the stream;
 * a client reconnecting with Last-Event-ID then gets that `end` at once.
 */
export async function streamRunEvents(
  stream: SSEStreamingApi,
  runner: Runner,
  hub: RunEventHub | undefined,
  runId: string,
  afterSeq: number,
  options: RunEventStreamOptions,
): Promise<void> {
  const wake = new Wakeup();
  const unsubscribe = hub?.subscribe(runId, () => wake.signal());
  stream.onAbort(() => wake.signal());
  let last = afterSeq;
  let lastWrite = performance.now();
  let checkFinished = true;
  try {
    while (!stream.aborted && !stream.closed) {
      wake.reset();
      const page = await runner.store.listLog(runId, last, PAGE);
      for (const { seq, event } of page) {
        await stream.writeSSE({ id: String(seq), event: event.type, data: JSON.stringify(event) });
        last = seq;
      }
      if (page.length > 0) {
        lastWrite = performance.now();
        checkFinished = true;
        if (page.length === PAGE) continue;
      }
      if (checkFinished) {
        // The state, not the event, knows whether the run is over: no event type alone marks the end.
        const state = await runner.load(runId);
        checkFinished = false;
        if (state && TERMINAL_RUN_STATUSES.includes(state.status) && state.version <= last) {
          await stream.writeSSE({
            event: "end",
            data: JSON.stringify({ runId, status: state.status, version: state.version }),
          });
          return;
        }
        if (state && state.version > last) continue;
      }
      const idleMs = performance.now() - lastWrite;
      if (idleMs >= options.heartbeatMs) {
        await stream.write(": keep-alive\n\n");
        lastWrite = performance.now();
      }
      // Without new events the run's status cannot have changed, so the next load waits for events.
      await wake.wait(Math.min(options.pollMs, Math.max(1, options.heartbeatMs - idleMs)));
    }
  } finally {
    unsubscribe?.();
    wake.signal();
  }
}

/** A wait that ends early when signalled; a signal before the wait makes it return at once. */
class Wakeup {
  private signalled = false;
  private release: (() => void) | undefined;

  reset(): void {
    this.signalled = false;
  }

  signal(): void {
    this.signalled = true;
    this.release?.();
  }

  wait(ms: number): Promise<void> {
    if (this.signalled) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.release = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.release = done;
    });
  }
}
