import type { PlanRepository } from "../plan/repository.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { KeyValue } from "../ports/kv.js";
import { PlanNotFoundError, RunInputError } from "../runner/errors.js";
import type { StartRunRequest, StartRunResult } from "../runner/runner.js";
import { scheduledRunId, scheduleKeys } from "./keys.js";
import { type AnchorRecord, anchorRecord, type TickClaimRecord, tickClaimRecord } from "./records.js";
import { type ScheduledTrigger, ScheduledTriggerSource } from "./triggers.js";

/** Structured logging as pino does it: fields first, then the message. */
export interface SchedulerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface SchedulerOptions {
  kv: KeyValue;
  /** The plan store runs are started from (the KV store in the runtime). */
  plans: PlanRepository;
  runner: { start(request: StartRunRequest): Promise<StartRunResult> };
  clock?: Clock;
  logger?: SchedulerLogger;
  /** Longest wait between two checks, so newly published schedules are picked up (default 30 s). */
  maxSleepMs?: number;
}

export type TickOutcome =
  /** This call started the run. */
  | "started"
  /** The run already existed (another replica started it, or this heals a claim whose owner died). */
  | "already_started"
  /** Starting failed for good (the trigger's input does not fit the plan); not retried. */
  | "failed"
  /** Starting failed for now (storage); the claim stays and the next check tries again. */
  | "retry_later";

export interface TickFiring {
  planId: string;
  planVersion: number;
  triggerIndex: number;
  /** Epoch milliseconds of the tick. */
  tick: number;
  runId: string;
  outcome: TickOutcome;
  error?: string;
}

export interface ScheduleInfo {
  planId: string;
  planVersion: number;
  triggerIndex: number;
  cron: string;
  timezone: string;
  /** Upcoming ticks, epoch milliseconds, soonest first. */
  next: number[];
  /** The latest tick that was claimed, if any. */
  last?: { tick: number; runId: string; status: TickClaimRecord["status"] };
}

const DEFAULT_MAX_SLEEP_MS = 30_000;
const MIN_SLEEP_MS = 10;
const MAX_ANCHOR_ATTEMPTS = 20;

/**
 * Fires plans' `schedule` triggers. Every tick is claimed in the KeyValue store before its run starts,
 * so with several replicas each tick fires once. After downtime only the most recent missed tick of each
 * trigger fires: a check only ever looks at the latest tick at or before now.
 */
export class Scheduler {
  private readonly clock: Clock;
  private readonly triggers: ScheduledTriggerSource;
  /** Ticks this process knows are handled, per trigger: saves KV round trips on every check. */
  private readonly handled = new Map<string, number>();
  private readonly anchors = new Map<string, AnchorRecord>();
  private known: ScheduledTrigger[] = [];
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.triggers = new ScheduledTriggerSource(options.plans);
  }

  /** Check now, then whenever the next tick is due (or after maxSleepMs), until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops checking; resolves when a check in progress is done. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** One pass: fire the due tick of every schedule trigger that has not been fired yet. */
  async check(): Promise<TickFiring[]> {
    const triggers = await this.triggers.current();
    this.known = triggers;
    const now = this.clock.now();
    const firings = await Promise.all(
      triggers.map((trigger) =>
        this.checkTrigger(trigger, now).catch((error: unknown) => {
          this.options.logger?.error(
            { planId: trigger.planId, triggerIndex: trigger.triggerIndex, error: errorMessage(error) },
            "schedule check failed; trying again at the next check",
          );
          return undefined;
        }),
      ),
    );
    return firings.filter((firing): firing is TickFiring => firing !== undefined);
  }

  /** Every schedule trigger with its next `count` fire times and its latest claimed tick. */
  async nextFireTimes(count = 3): Promise<ScheduleInfo[]> {
    const now = this.clock.now();
    const triggers = await this.triggers.current();
    return Promise.all(
      triggers.map(async (trigger) => {
        const last = await this.lastClaim(trigger);
        return {
          planId: trigger.planId,
          planVersion: trigger.planVersion,
          triggerIndex: trigger.triggerIndex,
          cron: trigger.schedule.pattern,
          timezone: trigger.schedule.timezone,
          next: trigger.schedule.nextAfter(now, count),
          ...(last ? { last } : {}),
        };
      }),
    );
  }

  private async run(): Promise<void> {
    const maxSleep = this.options.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS;
    while (this.running) {
      try {
        await this.check();
      } catch (error) {
        this.options.logger?.error({ error: errorMessage(error) }, "reading the schedules failed");
      }
      if (!this.running) break;
      await this.sleep(Math.max(MIN_SLEEP_MS, Math.min(maxSleep, this.msUntilNextTick())));
    }
  }

  private msUntilNextTick(): number {
    const now = this.clock.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const trigger of this.known) {
      const [next] = trigger.schedule.nextAfter(now, 1);
      if (next !== undefined) soonest = Math.min(soonest, next);
    }
    return soonest - now;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async checkTrigger(trigger: ScheduledTrigger, now: number): Promise<TickFiring | undefined> {
    const tick = trigger.schedule.latestAtOrBefore(now);
    if (tick === undefined) return undefined;
    const id = triggerId(trigger);
    if ((this.handled.get(id) ?? Number.NEGATIVE_INFINITY) >= tick) return undefined;
    const anchor = await this.anchorOf(trigger, now);
    if (tick < anchor.since) {
      this.handled.set(id, tick);
      return undefined;
    }
    return this.fire(trigger, tick, now);
  }

  /** Claim the tick, start its run (idempotent on the derived run id), record the outcome. */
  private async fire(trigger: ScheduledTrigger, tick: number, now: number): Promise<TickFiring | undefined> {
    const { kv, logger } = this.options;
    const { planId, triggerIndex } = trigger;
    const id = triggerId(trigger);
    const claimKey = scheduleKeys.claim(planId, triggerIndex, tick);
    const fresh: TickClaimRecord = {
      status: "claimed",
      runId: scheduledRunId(planId, triggerIndex, tick),
      planVersion: trigger.planVersion,
      input: trigger.input,
      claimedAt: now,
    };
    let claim = fresh;
    const claimed = await kv.setIfAbsent(claimKey, fresh);
    if (!claimed.ok) {
      const current = tickClaimRecord.safeParse(claimed.current?.value);
      if (current.success && current.data.status !== "claimed") {
        this.handled.set(id, tick);
        return undefined;
      }
      // Claimed but not started: the owner is starting it right now or died first. Either way, starting
      // the same run id again is harmless, and it heals the second case.
      if (current.success) claim = current.data;
    }
    const base = { planId, planVersion: claim.planVersion, triggerIndex, tick, runId: claim.runId };
    let firing: TickFiring;
    try {
      const result = await this.options.runner.start({
        planId,
        version: claim.planVersion,
        input: claim.input,
        runId: claim.runId,
      });
      await kv.set(claimKey, { ...claim, status: "started", startedAt: this.clock.now() });
      firing = { ...base, outcome: result.created ? "started" : "already_started" };
      if (result.created) logger?.info({ ...base }, "scheduled run started");
    } catch (error) {
      const message = errorMessage(error);
      if (!(error instanceof RunInputError || error instanceof PlanNotFoundError)) {
        logger?.warn(
          { ...base, error: message },
          "starting a scheduled run failed; retrying at the next check",
        );
        return { ...base, outcome: "retry_later", error: message };
      }
      await kv.set(claimKey, { ...claim, status: "failed", error: message });
      logger?.error(
        { ...base, error: message },
        `schedule trigger ${triggerIndex} of plan ${planId} cannot start a run; fix the trigger's input or the plan`,
      );
      firing = { ...base, outcome: "failed", error: message };
    }
    this.handled.set(id, tick);
    await this.forgetOlderClaims(trigger, tick);
    return firing;
  }

  /** Since when this trigger (with its current cron and zone) exists; ticks before that never fire. */
  private async anchorOf(trigger: ScheduledTrigger, now: number): Promise<AnchorRecord> {
    const id = triggerId(trigger);
    const { pattern: cron, timezone } = trigger.schedule;
    const cached = this.anchors.get(id);
    if (cached?.cron === cron && cached.timezone === timezone) return cached;
    const key = scheduleKeys.anchor(trigger.planId, trigger.triggerIndex);
    const wanted: AnchorRecord = { cron, timezone, since: Math.min(trigger.publishedAt ?? now, now) };
    for (let attempt = 0; attempt < MAX_ANCHOR_ATTEMPTS; attempt++) {
      const entry = await this.options.kv.get(key);
      const stored = anchorRecord.safeParse(entry?.value);
      if (stored.success && stored.data.cron === cron && stored.data.timezone === timezone) {
        this.anchors.set(id, stored.data);
        return stored.data;
      }
      // A new trigger, or its cron or zone changed: the schedule starts over from this version.
      const written = entry
        ? await this.options.kv.compareAndSet(key, wanted, entry.version)
        : await this.options.kv.setIfAbsent(key, wanted);
      if (written.ok) {
        this.anchors.set(id, wanted);
        return wanted;
      }
    }
    throw new Error(`schedule anchor ${key} kept changing under concurrent writers`);
  }

  private async lastClaim(trigger: ScheduledTrigger): Promise<ScheduleInfo["last"]> {
    const claims = await this.claims(trigger);
    const latest = claims.at(-1);
    return latest
      ? { tick: latest.tick, runId: latest.record.runId, status: latest.record.status }
      : undefined;
  }

  private async forgetOlderClaims(trigger: ScheduledTrigger, tick: number): Promise<void> {
    for (const claim of await this.claims(trigger)) {
      if (claim.tick < tick) await this.options.kv.delete(claim.key);
    }
  }

  private async claims(
    trigger: ScheduledTrigger,
  ): Promise<Array<{ key: string; tick: number; record: TickClaimRecord }>> {
    const prefix = scheduleKeys.claimPrefix(trigger.planId, trigger.triggerIndex);
    const out: Array<{ key: string; tick: number; record: TickClaimRecord }> = [];
    let cursor: string | undefined;
    do {
      const page = await this.options.kv.list(prefix, { limit: 100, ...(cursor ? { cursor } : {}) });
      for (const entry of page.entries) {
        const tick = Number(entry.key.slice(prefix.length));
        const record = tickClaimRecord.safeParse(entry.value);
        if (Number.isSafeInteger(tick) && record.success)
          out.push({ key: entry.key, tick, record: record.data });
      }
      cursor = page.cursor;
    } while (cursor);
    return out.sort((a, b) => a.tick - b.tick);
  }
}

function triggerId(trigger: ScheduledTrigger): string {
  return `${trigger.planId}/${trigger.triggerIndex}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
