/**
 * Where the scheduler keeps its state in the KeyValue store, and the run ids it derives.
 *
 * - `schedule/<planId>/<triggerIndex>/<tickEpochMs>`: the claim of one tick, written with setIfAbsent
 *   so exactly one replica owns it. It records whether the run was started.
 * - `schedule-anchor/<planId>/<triggerIndex>`: since when the trigger (this cron and time zone) exists;
 *   ticks before it are never fired, so a new schedule does not fire a tick from before it existed.
 */
export const scheduleKeys = {
  claimPrefix: (planId: string, triggerIndex: number) => `schedule/${planId}/${triggerIndex}/`,
  claim: (planId: string, triggerIndex: number, tick: number) => `schedule/${planId}/${triggerIndex}/${tick}`,
  anchor: (planId: string, triggerIndex: number) => `schedule-anchor/${planId}/${triggerIndex}`,
};

/**
 * The run id of a tick follows from its claim, so a replica that claimed a tick and died before
 * starting the run is healed by whoever checks next: starting the same id again is idempotent.
 */
export function scheduledRunId(planId: string, triggerIndex: number, tick: number): string {
  return `schedule~${planId}~${triggerIndex}~${tick}`;
}
