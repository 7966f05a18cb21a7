import type { RunEventHub } from "../api/event-hub.js";
import { type RunState, TERMINAL_RUN_STATUSES } from "../graph/types.js";
import type { Runner } from "../runner/runner.js";

export interface AwaitRunOptions {
  runner: Pick<Runner, "load">;
  /** Wakes the wait as soon as this process appends an event of the run. */
  events?: RunEventHub;
  /** Re-read the run this often anyway (events appended by other processes). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** Whether waiting longer is pointless: the run is over, or it waits for a person. */
export function isSettled(state: RunState): boolean {
  return TERMINAL_RUN_STATUSES.includes(state.status) || waitingApprovals(state).length > 0;
}

/** Steps waiting for a person's decision, with what they ask. */
export function waitingApprovals(state: RunState): Array<{ step: string; message?: string }> {
  return Object.values(state.steps)
    .filter((step) => step.status === "waiting_approval")
    .map((step) => ({
      step: step.key,
      ...(step.approval?.request.message !== undefined ? { message: step.approval.request.message } : {}),
    }));
}

/**
 * Reads the run until it is settled or `waitMs` has passed (or the signal aborts), and returns the last
 * state read; undefined when the run does not exist.
 */
export async function awaitRun(
  runId: string,
  waitMs: number,
  options: AwaitRunOptions,
): Promise<RunState | undefined> {
  const deadline = performance.now() + waitMs;
  const pollMs = options.pollMs ?? 500;
  let wake: (() => void) | undefined;
  const unsubscribe = options.events?.subscribe(runId, () => wake?.());
  const onAbort = () => wake?.();
  options.signal?.addEventListener("abort", onAbort);
  try {
    for (;;) {
      const state = await options.runner.load(runId);
      const remaining = deadline - performance.now();
      if (!state || isSettled(state) || remaining <= 0 || options.signal?.aborted) return state;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(pollMs, remaining));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    unsubscribe?.();
    options.signal?.removeEventListener("abort", onAbort);
  }
}
